"""Samples already in flight keep their place: a history recorded by the lifecycle as it was
before waits took absolute deadlines (each timeout worked out as "deadline minus now") replays
on today's code without blocking. No database: the replay core on a history whose events are
stamped a little apart, as a real database stamps them."""

from __future__ import annotations

from datetime import timedelta

from samples.lifecycle import steps
from samples.lifecycle.flows import sample_lifecycle_v2
from tests.workflows.test_replay import T0, History
from workflows.replay import replay

DEADLINE = (T0 + timedelta(hours=23)).timestamp()
ASSAYS = ["GLU", "K"]


async def lifecycle_before_absolute_deadlines(ctx, barcode):
    """The lifecycle's awaits up to its first result, as the earlier code wrote them."""
    plan = await ctx.step(steps.lifecycle_plan, barcode)
    deadline = plan["deadline"]

    async def before_deadline(name):
        left = max(0.0, deadline - ctx.now().timestamp())
        return await ctx.wait_signal(name, timeout=left)

    reception = await before_deadline("reception")
    await ctx.step(steps.record_receipt, barcode, reception)
    await before_deadline("batch")
    for code in ASSAYS:
        await ctx.step(steps.join_batch, barcode, code)
    await ctx.step(steps.mark, barcode, "awaiting_batch")
    for code in ASSAYS:
        await before_deadline(f"batched:{code}")
    await ctx.step(steps.mark, barcode, "in_batch")
    return await before_deadline("result:GLU")


def test_a_two_assay_sample_recorded_by_the_earlier_lifecycle_replays_on_todays_code():
    history = History(lifecycle_before_absolute_deadlines, "S-000777")
    plan = {"deadline": DEADLINE, "assays": [{"code": c, "max_retests": 1} for c in ASSAYS]}
    history.advance()
    history.complete(1, plan)
    history.advance()
    history.tick(600)
    history.signal("reception", {"action": "receive", "condition": "acceptable"})
    history.advance()
    history.complete(3, None)
    history.advance()
    history.tick(60)
    history.signal("batch")
    history.advance()
    for cmd in (5, 6, 7):
        history.complete(cmd, {"batch": 1, "position": 1} if cmd < 7 else None)
        history.advance()
    for code in ASSAYS:
        history.tick(3600)
        history.signal(f"batched:{code}")
        history.advance()
    history.complete(10, None)
    assert history.advance().waiting_for.startswith("signal 'result:GLU' until ")

    today = replay(sample_lifecycle_v2, ["S-000777"], run_id="run-1", events=history.events)
    assert today.status == "waiting" and today.blocked_reason == ""
    assert today.new_events == []  # every recorded decision read back, none taken again
    assert today.waiting_for == history.advance().waiting_for
