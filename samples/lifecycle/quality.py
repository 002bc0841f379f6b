"""``batch_run`` version 2: the batch run with its quality control, on ``workflows.api`` only.

As version 1 (``samples.lifecycle.flows``): close when full or at the closing time, tell the
members their plate positions, wait for the run to start. Then read the run's control
positions (placed as it started), wait for a result of every member and for signal
``control:<lot code>`` of each control, and conclude QC: accepted when no control result of
the run is rejected. A rejected run holds its patient results and waits for signal
``qc_decision`` (a supervisor runs the batch again or accepts the run,
``samples.services.qc_decisions``); each time the reminder timer fires first, the supervisors
are reminded by email and the wait goes on. A run without controls goes on as version 1.

Batches opened before this version finish on version 1.
"""

from __future__ import annotations

import contextlib
from typing import Any

from samples.lifecycle import steps
from samples.lifecycle.names import BATCH_RUN
from workflows.api import Context, SignalTimeout, workflow


@workflow(BATCH_RUN, version=2)
async def batch_run_v2(ctx: Context, batch_id: int) -> str:
    plan = await ctx.step(steps.batch_plan, batch_id)
    with contextlib.suppress(SignalTimeout):  # its closing time came first
        await ctx.wait_signal("full", timeout=plan["close_after"])
    members = await ctx.step(steps.batch_close, batch_id)
    await ctx.wait_signal("run_started")
    controls = await ctx.step(steps.qc_controls, batch_id)
    waiting = {member["barcode"] for member in members}
    while waiting:
        done = await ctx.wait_signal("member_done")
        waiting.discard(done["barcode"])
    for code in controls:
        await ctx.wait_signal(f"control:{code}")
    outcome = ""
    if controls:
        qc = await ctx.step(steps.qc_conclude, batch_id)
        outcome = f", QC {qc['verdict']}"
        if qc["verdict"] == "rejected":
            decision = await _held(ctx, batch_id, qc["remind_every"])
            outcome += f", {decision['action']}"
    await ctx.step(steps.batch_complete, batch_id)
    return f"{len(members)} sample(s){outcome}"


async def _held(ctx: Context, batch_id: int, remind_every: float) -> Any:
    """Wait for a supervisor's decision, reminding the supervisors each time the timer fires."""
    while True:
        try:
            return await ctx.wait_signal("qc_decision", timeout=remind_every)
        except SignalTimeout:
            await ctx.step(steps.qc_remind, batch_id)
