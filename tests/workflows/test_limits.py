"""The engine's limits, in-process: a step's time limit, a result that is not JSON, and a run
whose workflow code keeps killing the worker that advances it. Real tables, virtual clock, no
broker (``test_durability`` has the same limits with real worker processes)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import pytest

from workflows import executor, lost
from workflows.api import RetryPolicy, StepFailed, get_run, signal, start, step, workflow
from workflows.models import Run
from workflows.ops import RunFilter, intervene, runs_list

calls: Counter[str] = Counter()

LOST_THREE_TIMES = (
    "the workflow's code was lost 3 times while advancing (its worker process died): "
    "fix the code or the worker, then resume"
)


@pytest.fixture(autouse=True)
def fresh_counters():
    calls.clear()


def step_failures(run_id):
    return [e for e in get_run(run_id).history if e.kind == "step_failed"]


# --- an attempt past its timeout -----------------------------------------------------------------


@step("limits.overruns", timeout=0.2, retry=RetryPolicy(max_attempts=2, initial_interval=1))
def overruns():
    """Runs past its timeout on its first attempt and returns a value all the same."""
    calls["overruns"] += 1
    if calls["overruns"] == 1:
        time.sleep(0.3)
        return "too late"
    return "in time"


@workflow("limits.overruns")
async def overruns_flow(ctx):
    return await ctx.step(overruns)


def test_an_attempt_past_its_timeout_fails_whatever_it_returned_and_is_retried(env):
    run_id = start("limits.overruns")
    env.run_until_idle()
    assert get_run(run_id).status == "running"  # the first attempt failed; the retry backs off
    env.advance_time(1)
    run = get_run(run_id)
    assert (run.status, run.result) == ("completed", "in time")
    assert calls["overruns"] == 2
    [failed] = step_failures(run_id)
    assert (failed.attempt, failed.data["error_type"], failed.data["final"]) == (
        1, "StepTimeout", False,
    )  # fmt: skip
    assert failed.data["message"].startswith("attempt 1 ran past its 0.2s timeout (")


@step("limits.always_late", timeout=0.1, retry=RetryPolicy(max_attempts=1))
def always_late():
    calls["always_late"] += 1
    time.sleep(0.15)
    return "too late"


@workflow("limits.always_late")
async def always_late_flow(ctx):
    try:
        return await ctx.step(always_late)
    except StepFailed as failure:
        return [failure.error_type, failure.attempts]


def test_the_last_attempt_past_its_timeout_fails_the_step_in_the_workflow(env):
    run_id = start("limits.always_late")
    env.run_until_idle()
    assert get_run(run_id).result == ["StepTimeout", 1]
    assert calls["always_late"] == 1


# --- a result that is not JSON -------------------------------------------------------------------


@step("limits.not_json", retry=RetryPolicy(max_attempts=3, initial_interval=1))
def not_json():
    """Has a side effect, then returns something JSON cannot hold."""
    calls["not_json"] += 1
    return {"received": date(2024, 5, 17)}


@workflow("limits.not_json")
async def not_json_flow(ctx):
    try:
        return await ctx.step(not_json)
    except StepFailed as failure:
        return [failure.error_type, failure.message, failure.attempts]


def test_a_result_that_is_not_json_fails_the_step_at_once_and_it_never_runs_again(env):
    run_id = start("limits.not_json")
    env.run_until_idle()
    env.advance_time(60)  # long enough for every retry, were there any
    assert calls["not_json"] == 1
    error_type, message, attempts = get_run(run_id).result
    assert (error_type, attempts) == ("ResultNotJSON", 1)
    assert message.startswith("the result of step 'limits.not_json' must be JSON-serialisable: ")
    assert "date is not JSON serializable" in message
    [failed] = step_failures(run_id)
    assert (failed.attempt, failed.data["final"]) == (1, True)


# --- workflow code that kills its worker ------------------------------------------------------


@workflow("limits.reception")
async def reception(ctx, barcode):
    receipt = await ctx.wait_signal("received")
    return {"barcode": barcode, "condition": receipt["condition"]}


def lost_advances(run_id):
    return Run.objects.values_list("lost_advances", flat=True).get(pk=run_id)


def test_a_successful_advance_forgets_the_advances_lost_before_it(env):
    run_id = start("limits.reception", "S-1")
    env.run_until_idle()
    # What a worker's main process records when the pool process advancing the run dies.
    assert lost.record_lost_advance(run_id) is False
    assert lost.record_lost_advance(run_id) is False
    assert (get_run(run_id).status, lost_advances(run_id)) == ("waiting", 2)
    executor.advance_run(run_id)  # the redelivered advance gets through
    assert lost_advances(run_id) == 0
    signal(run_id, "received", {"condition": "ok"})
    env.run_until_idle()
    assert get_run(run_id).result == {"barcode": "S-1", "condition": "ok"}


def test_a_run_whose_code_kept_killing_its_worker_waits_blocked_for_a_person(env):
    run_id = start("limits.reception", "S-2")
    env.run_until_idle()
    assert [lost.record_lost_advance(run_id) for _ in range(3)] == [False, False, True]
    run = get_run(run_id)
    assert (run.status, run.waiting_for) == ("blocked", LOST_THREE_TIMES)
    listed, _ = runs_list(RunFilter(stuck=True))  # the console's "blocked or failed only"
    assert [(r.id, r.status, r.blocked_reason) for r in listed] == [
        (run_id, "blocked", LOST_THREE_TIMES)
    ]

    signal(run_id, "received", {"condition": "ok"})
    env.advance_time(60)  # the signal's doorbell, and sweeps as beat would run them
    assert (get_run(run_id).status, get_run(run_id).waiting_for) == ("blocked", LOST_THREE_TIMES)
    assert Run.objects.get(pk=run_id).last_seq == 3  # started, waited, received: nothing more
    assert lost.record_lost_advance(run_id) is True  # a late copy of its message: still parked

    done = intervene(run_id, "resume", actor="sam", reason="worker memory raised")
    assert lost_advances(run_id) == 0
    assert "worker" in done.outcome
    env.run_until_idle()
    assert get_run(run_id).result == {"barcode": "S-2", "condition": "ok"}
    resumed = next(e for e in get_run(run_id).history if e.kind == "resume_requested")
    assert (resumed.actor, resumed.data["blocked"]) == ("sam", LOST_THREE_TIMES)


def test_a_retry_from_the_command_line_takes_a_parked_run_up_again_too(env):
    run_id = start("limits.reception", "S-3")
    env.run_until_idle()
    for _ in range(3):
        lost.record_lost_advance(run_id)
    signal(run_id, "received", {"condition": "ok"})
    done = intervene(run_id, "retry", actor="operator", reason="worker memory raised")
    assert lost_advances(run_id) == 0
    assert "worker" in done.outcome
    env.run_until_idle()
    assert get_run(run_id).result == {"barcode": "S-3", "condition": "ok"}
