"""``batch_run`` versions 2 and 3: the batch run with its quality control, on ``workflows.api``
only.

As version 1 (``samples.lifecycle.flows``): close when full or at the closing time, tell the
members their plate positions, wait for the run to start. Then read the run's control
positions (placed as it started), wait for a result of every member and for signal
``control:<lot code>`` of each control, and conclude QC: accepted when no control result of
the run is rejected. A rejected run holds its patient results and waits for signal
``qc_decision`` (a supervisor runs the batch again or accepts the run,
``samples.services.qc_decisions``); each time the reminder timer fires first, the supervisors
are reminded by email and the wait goes on. A run without controls goes on as version 1.

Version 3 does not let a control that never gets its result hold the run unseen: once the
patient results are in, each period (``QC_CONTROL_REMINDER_MINUTES``, read as the run starts)
that passes with a control result still missing, the supervisors are emailed the missing lots
(``qc_control_remind``) and the wait goes on; when the last control result comes, QC concludes
as in version 2.

Batches opened before version 2 finish on version 1, those opened before version 3 on
version 2.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from samples.lifecycle import steps
from samples.lifecycle.names import BATCH_RUN
from workflows.api import Context, SignalTimeout, workflow


@workflow(BATCH_RUN, version=2)
async def batch_run_v2(ctx: Context, batch_id: int) -> str:
    return await _batch_run(ctx, batch_id, remind_missing=False)


@workflow(BATCH_RUN, version=3)
async def batch_run_v3(ctx: Context, batch_id: int) -> str:
    return await _batch_run(ctx, batch_id, remind_missing=True)


async def _batch_run(ctx: Context, batch_id: int, *, remind_missing: bool) -> str:
    plan = await ctx.step(steps.batch_plan, batch_id)
    with contextlib.suppress(SignalTimeout):  # its closing time came first
        await ctx.wait_signal("full", timeout=plan["close_after"])
    members = await ctx.step(steps.batch_close, batch_id)
    await ctx.wait_signal("run_started")
    if remind_missing:
        awaited = await ctx.step(steps.qc_control_plan, batch_id)
        controls, remind_every = awaited["controls"], awaited["remind_every"]
    else:
        controls = await ctx.step(steps.qc_controls, batch_id)
    waiting = {member["barcode"] for member in members}
    while waiting:
        done = await ctx.wait_signal("member_done")
        waiting.discard(done["barcode"])
    if remind_missing:
        await _controls_in(ctx, batch_id, controls, remind_every)
    else:
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


async def _controls_in(
    ctx: Context, batch_id: int, controls: list[str], remind_every: float
) -> None:
    """Wait for a result of each control, the patient results being in; each time a period
    ends with one still missing, remind the supervisors and wait a period more."""
    period = timedelta(seconds=remind_every)
    due = ctx.now() + period
    for code in controls:
        while True:
            try:
                await ctx.wait_signal(f"control:{code}", until=due)
                break
            except SignalTimeout:
                await ctx.step(steps.qc_control_remind, batch_id)
                due = ctx.now() + period


async def _held(ctx: Context, batch_id: int, remind_every: float) -> Any:
    """Wait for a supervisor's decision, reminding the supervisors each time the timer fires."""
    while True:
        try:
            return await ctx.wait_signal("qc_decision", timeout=remind_every)
        except SignalTimeout:
            await ctx.step(steps.qc_remind, batch_id)
