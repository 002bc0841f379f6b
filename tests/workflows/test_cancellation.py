"""Cancellation, timers and patches through the real executor and tables (both modes: each
advance replayed from the table, and workflows kept in memory between commits). A cancellation
lands at the await where the workflow was when it was recorded, nothing is scheduled past it,
and the work of the cancelled await stops in the same write."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from workflows.api import (
    Cancelled,
    RetryPolicy,
    cancel,
    current_step,
    get_run,
    signal,
    start,
    step,
    workflow,
)
from workflows.models import StepTask, Timer

executed: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def fresh_counts():
    executed.clear()


def kinds(run_id):
    return [entry.kind for entry in get_run(run_id).history]


@step("c.note")
def note(name):
    executed[name] += 1
    return name


@step("c.cancels_its_own_run")
def cancels_its_own_run(reason):
    """Stands for a person cancelling while this step runs: the cancellation is recorded
    before the step's result."""
    executed["cancelling"] += 1
    assert cancel(current_step().run_id, actor="rui", reason=reason)
    return "measured"


@workflow("c.three_steps")
async def three_steps(ctx, cleanup):
    try:
        await ctx.step(note, "one")
        await ctx.step(cancels_its_own_run, "wrong patient")
        await ctx.step(note, "three")
    except Cancelled:
        if cleanup:
            await ctx.step(note, "clean-up")
        raise
    return "done"


@pytest.mark.parametrize("cleanup", [False, True])
def test_a_cancel_while_a_step_runs_lands_on_that_step_and_the_next_never_runs(env, cleanup):
    run_id = start("c.three_steps", cleanup)
    env.run_until_idle()
    run = get_run(run_id)
    assert run.status == "cancelled"
    assert executed["three"] == 0  # never scheduled, never run, nothing recorded for it
    assert executed["clean-up"] == (1 if cleanup else 0)
    history = [(e.kind, e.cmd) for e in run.history]
    assert ("cancel_delivered", 2) in history
    assert not any(kind == "step_scheduled" and cmd == 3 and not cleanup for kind, cmd in history)
    ended = history.index(("run_cancelled", None))
    assert history[ended + 1 :] == []  # nothing after the end
    assert not StepTask.objects.filter(run_id=run_id, name="c.note", args=["three"]).exists()


@workflow("c.last_step")
async def last_step(ctx):
    return await ctx.step(cancels_its_own_run, "withdrawn")


def test_a_cancel_during_the_last_step_ends_the_run_cancelled(env):
    run_id = start("c.last_step")
    env.run_until_idle()
    run = get_run(run_id)
    assert (run.status, run.result) == ("cancelled", None)
    assert kinds(run_id)[-2:] == ["cancel_delivered", "run_cancelled"]


@step("c.busy_instrument", retry=RetryPolicy(max_attempts=5, initial_interval=60))
def busy_instrument():
    executed["busy"] += 1
    raise ConnectionError("instrument busy")


@workflow("c.retrying")
async def retrying(ctx):
    try:
        await ctx.step(busy_instrument)
    except Cancelled:
        await ctx.step(note, "release the rack")
        raise


def test_a_step_cancelled_during_its_backoff_is_not_retried_while_the_workflow_cleans_up(env):
    run_id = start("c.retrying")
    env.run_until_idle()
    assert executed["busy"] == 1  # the first attempt failed; the next one is a minute away
    assert cancel(run_id, actor="rui", reason="sample withdrawn")
    env.run_until_idle()
    assert executed["release the rack"] == 1
    env.advance_time(timedelta(hours=1))
    assert executed["busy"] == 1  # abandoned in the write that delivered the cancellation
    assert StepTask.objects.get(run_id=run_id, name="c.busy_instrument").status == "abandoned"
    assert get_run(run_id).status == "cancelled"


@workflow("c.gathered")
async def gathered(ctx):
    try:
        await ctx.gather(ctx.wait_signal("go"), ctx.sleep(timedelta(hours=1)))
    except Cancelled:
        await ctx.wait_signal("cleaned")
        raise


def test_a_cancelled_gathers_timer_is_stopped_while_the_workflow_cleans_up(env):
    run_id = start("c.gathered")
    env.run_until_idle()
    assert cancel(run_id, actor="rui", reason="duplicate order")
    env.run_until_idle()
    assert not Timer.objects.filter(run_id=run_id, fired=False).exists()
    env.advance_time(timedelta(hours=2))
    assert "timer_fired" not in kinds(run_id)  # the cleanup's own wait was not woken
    assert get_run(run_id).status == "waiting"
    signal(run_id, "cleaned")
    env.run_until_idle()
    assert get_run(run_id).status == "cancelled"


@workflow("c.received")
async def received(ctx):
    await ctx.wait_signal("received", timeout=timedelta(hours=48))
    await ctx.wait_signal("reviewed")
    return "reviewed"


def test_a_wait_answered_in_time_leaves_no_timer_to_fire_later(env):
    run_id = start("c.received")
    env.run_until_idle()
    signal(run_id, "received", actor="tess")
    env.run_until_idle()
    env.advance_time(timedelta(hours=49))
    assert "timer_fired" not in kinds(run_id)
    assert get_run(run_id).waiting_for == "signal 'reviewed'"


@workflow("c.patch_point")
async def patch_point(ctx):
    await ctx.wait_signal("received")
    await ctx.wait_signal("reviewed")
    return "old path"


def test_a_run_that_passed_a_patch_point_keeps_the_old_path_at_every_later_check(env):
    run_id = start("c.patch_point")
    signal(run_id, "received")
    env.run_until_idle()
    original = patch_point.__code__

    async def with_the_change(ctx):
        await ctx.wait_signal("received")
        if ctx.patched("qc-hold"):
            await ctx.step(note, "qc hold")
        await ctx.wait_signal("reviewed")
        if ctx.patched("qc-hold"):
            await ctx.step(note, "qc release")
        return "old path"

    patch_point.__code__ = with_the_change.__code__
    env.restart_workers()
    try:
        signal(run_id, "reviewed")
        env.run_until_idle()
        assert get_run(run_id).result == "old path"
        assert executed["qc release"] == 0 and "patch_marker" not in kinds(run_id)
    finally:
        patch_point.__code__ = original
        env.restart_workers()
