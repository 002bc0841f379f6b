"""The sample lifecycle and the batch run, as durable workflows on ``workflows.api`` only.

``sample_lifecycle`` (one run per sample): wait for receipt or rejection while the stability
window runs from collection; then, for the ordered assays, join the open batch, wait for it to
close and for the results, evaluate each (an unusable result goes back for a retest, up to the
assay's limit); then wait for a reviewer to verify (or send an assay back for a retest), render
the report and finish. A sample not received, or not analysed, within its stability window
expires.

Version 2 adds one step: a critical result is flagged for the reviewer. Version 3 sends the
released results out once the report is stored (``samples.lifecycle.outbox``: an ORU^R01 to
each active destination, retried, parked for a person after its last attempt). Version 4 opens
a notification for each critical result (its own workflow, ``samples.lifecycle.critical``: a
call to the person responsible, escalated to the supervisors past its SLA) and waits, once the
sample is verified, until each is closed (signal ``critical:<result_id>``) before it marks the
sample verified and renders the report; the verification itself is refused while one is open.
Runs finish on the version they started on; new runs take the newest.
A result corrected after release sends the sample back to review on a run of its own
(``samples.lifecycle.corrections``): the lifecycle has finished by then.

``batch_run`` (one run per batch): close when full or at the closing time, whichever comes
first; tell the members their plate positions; wait for the run to start and for a result for
every member; complete.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from samples.lifecycle import critical, steps  # noqa: F401  (critical: registers its workflow)
from samples.lifecycle.names import BATCH_RUN, LIFECYCLE, ORIGINAL
from samples.lifecycle.outbox import send_out
from workflows.api import Cancelled, Context, SignalTimeout, workflow


class _Expired(Exception):
    pass


@workflow(LIFECYCLE, version=1)
async def sample_lifecycle_v1(ctx: Context, barcode: str) -> str:
    return await _lifecycle(ctx, barcode, flag_critical=False)


@workflow(LIFECYCLE, version=2)
async def sample_lifecycle_v2(ctx: Context, barcode: str) -> str:
    return await _lifecycle(ctx, barcode, flag_critical=True)


@workflow(LIFECYCLE, version=3)
async def sample_lifecycle_v3(ctx: Context, barcode: str) -> str:
    return await _lifecycle(ctx, barcode, flag_critical=True, results_out=True)


@workflow(LIFECYCLE, version=4)
async def sample_lifecycle_v4(ctx: Context, barcode: str) -> str:
    return await _lifecycle(ctx, barcode, flag_critical=True, results_out=True, notify=True)


async def _lifecycle(
    ctx: Context,
    barcode: str,
    *,
    flag_critical: bool,
    results_out: bool = False,
    notify: bool = False,
) -> str:
    plan = await ctx.step(steps.lifecycle_plan, barcode)
    deadline = datetime.fromtimestamp(plan["deadline"], UTC)

    async def before_deadline(name: str) -> Any:
        try:
            return await ctx.wait_signal(name, until=deadline)
        except SignalTimeout:
            raise _Expired from None

    try:
        reception = await before_deadline("reception")
        if reception["action"] == "reject":
            await ctx.step(steps.record_rejection, barcode, reception)
            return "rejected"
        await ctx.step(steps.record_receipt, barcode, reception)
        retests = {a["code"]: 0 for a in plan["assays"]}
        limits = {a["code"]: a["max_retests"] for a in plan["assays"]}
        pending = sorted(retests)
        # Version 4: the critical results whose notification must close before release.
        criticals: list[int] | None = [] if notify else None
        while True:
            while pending:
                pending = await _analyse(
                    ctx, barcode, pending, retests, limits, before_deadline, flag_critical,
                    criticals,
                )  # fmt: skip
            await ctx.step(steps.mark, barcode, "resulted")
            review = await ctx.wait_signal("review")
            if review["action"] == "verify":
                break
            retests[review["assay"]] += 1
            await ctx.step(steps.open_retest, review["result_id"], review["reason"], review["by"])
            await ctx.step(steps.mark, barcode, "retest_pending")
            pending = [review["assay"]]
        for result_id in criticals or []:  # verification was refused while one was open
            await ctx.wait_signal(f"critical:{result_id}")
        await ctx.step(steps.mark, barcode, "verified")
        await ctx.step(steps.render_report, barcode, review["signature_id"])
        await ctx.step(steps.mark, barcode, "reported")
    except _Expired:
        await ctx.step(steps.mark, barcode, "expired")
        return "expired"
    except Cancelled:
        await ctx.step(steps.mark, barcode, "cancelled")
        raise
    if results_out:  # the sample is reported: a cancellation now ends the sending only
        await send_out(ctx, barcode, ORIGINAL, [])
    return "reported"


async def _analyse(
    ctx: Context,
    barcode: str,
    pending: list[str],
    retests: dict[str, int],
    limits: dict[str, int],
    before_deadline: Any,
    flag_critical: bool,
    criticals: list[int] | None = None,
) -> list[str]:
    """One round: into the open batches, wait for them to close and for the results. Returns
    the assays that need another round (a retest)."""
    await before_deadline("batch")
    for code in pending:
        await ctx.step(steps.join_batch, barcode, code)
    await ctx.step(steps.mark, barcode, "awaiting_batch")
    for code in pending:
        await before_deadline(f"batched:{code}")
    await ctx.step(steps.mark, barcode, "in_batch")
    again = []
    for code in pending:
        result = await before_deadline(f"result:{code}")
        verdict = await ctx.step(steps.evaluate_result, result["result_id"])
        if verdict["retest"] and retests[code] < limits[code]:
            retests[code] += 1
            await ctx.step(steps.open_retest, result["result_id"], verdict["reason"], None)
            again.append(code)
            continue
        if flag_critical and verdict["critical"]:
            await ctx.step(steps.review_critical, barcode, result["result_id"])
            if criticals is not None:
                found = ctx.now().timestamp()
                await ctx.step(steps.critical_open, barcode, result["result_id"], found)
                criticals.append(result["result_id"])
    if again:
        await ctx.step(steps.mark, barcode, "retest_pending")
    return again


@workflow(BATCH_RUN, version=1)
async def batch_run(ctx: Context, batch_id: int) -> str:
    plan = await ctx.step(steps.batch_plan, batch_id)
    with contextlib.suppress(SignalTimeout):  # its closing time came first
        await ctx.wait_signal("full", timeout=plan["close_after"])
    members = await ctx.step(steps.batch_close, batch_id)
    await ctx.wait_signal("run_started")
    waiting = {member["barcode"] for member in members}
    while waiting:
        done = await ctx.wait_signal("member_done")
        waiting.discard(done["barcode"])
    await ctx.step(steps.batch_complete, batch_id)
    return f"{len(members)} sample(s)"
