"""The engine through its public API, in-process: real tables, virtual clock, no broker."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction

from tests.replaying import assert_every_history_replays
from workflows import store
from workflows.api import (
    Cancelled,
    RetryPolicy,
    RunNotFound,
    Signal,
    SignalTimeout,
    StepFailed,
    cancel,
    current_step,
    get_run,
    signal,
    signal_many,
    start,
    step,
    wait_settled,
    workflow,
)
from workflows.models import HistoryEvent, StepTask, Timer
from workflows.registry import unregister_workflow

calls: Counter[str] = Counter()
failures_left: Counter[str] = Counter()


@pytest.fixture(autouse=True)
def fresh_counters():
    calls.clear()
    failures_left.clear()


@step("t.double")
def double(x):
    calls["double"] += 1
    return x * 2


@step("t.flaky", retry=RetryPolicy(max_attempts=4, initial_interval=1, backoff=2))
def flaky(label):
    calls["flaky"] += 1
    if failures_left[label] > 0:
        failures_left[label] -= 1
        raise ConnectionError(f"instrument {label} busy")
    return f"{label} ok"


@step("t.invalid", retry=RetryPolicy(max_attempts=5, non_retryable=(ValueError,)))
def invalid(value):
    calls["invalid"] += 1
    raise ValueError(f"{value} is out of range")


@step("t.whoami")
def whoami():
    info = current_step()
    return {"key": info.idempotency_key, "attempt": info.attempt}


@workflow("t.sequence")
async def sequence(ctx, x):
    a = await ctx.step(double, x)
    b = await ctx.step(double, a)
    return {"a": a, "b": b}


def kinds(run_id):
    return [entry.kind for entry in get_run(run_id).history]


def test_a_workflow_runs_its_steps_in_order_and_records_each_event(env):
    run_id = start("t.sequence", 3, actor="tess")
    env.run_until_idle()
    run = get_run(run_id)
    assert (run.status, run.result, run.workflow, run.version) == (
        "completed", {"a": 6, "b": 12}, "t.sequence", 1,
    )  # fmt: skip
    assert kinds(run_id) == [
        "run_started",
        "step_scheduled", "step_started", "step_completed",
        "step_scheduled", "step_started", "step_completed",
        "run_completed",
    ]  # fmt: skip
    assert run.history[0].actor == "tess"
    assert [e.seq for e in run.history] == list(range(1, 9))
    assert calls["double"] == 2


def test_start_with_the_same_key_returns_the_first_run(env):
    first = start("t.sequence", 1, key="S-000123")
    assert start("t.sequence", 1, key="S-000123") == first
    assert start("t.sequence", 1, key="S-000124") != first
    env.run_until_idle()
    assert calls["double"] == 4  # two runs, two steps each


def test_nothing_happens_when_the_callers_transaction_rolls_back(env):
    with pytest.raises(RuntimeError), transaction.atomic():
        run_id = start("t.sequence", 1)
        raise RuntimeError("the caller changed its mind")
    env.run_until_idle()
    with pytest.raises(RunNotFound):
        get_run(run_id)
    assert calls["double"] == 0


def test_starting_an_unknown_workflow_is_a_clear_error(env):
    with pytest.raises(LookupError, match=r"no workflow named 't\.nope' is registered"):
        start("t.nope")


@workflow("t.reception")
async def reception(ctx, barcode):
    try:
        receipt = await ctx.wait_signal("received", timeout=timedelta(hours=48))
    except SignalTimeout:
        return {"barcode": barcode, "state": "expired"}
    return {"barcode": barcode, "condition": receipt["condition"]}


def test_a_waiting_run_holds_no_worker_and_says_what_it_waits_for(env):
    run_id = start("t.reception", "S-1")
    env.run_until_idle()
    run = get_run(run_id)
    assert run.status == "waiting"
    assert run.waiting_for.startswith("signal 'received' until ")
    [wait] = run.waits  # the same, as data for an application's own words
    assert (wait.kind, wait.name, wait.args) == ("signal", "received", ())
    assert wait.until is not None and run.waiting_for.endswith(wait.until.strftime("%H:%MZ"))
    assert StepTask.objects.count() == 0  # nothing queued, nothing running


def test_a_run_has_settled_once_it_took_in_a_signal_and_reached_its_next_wait(env):
    run_id = start("t.gather")
    assert not wait_settled(run_id, seconds=0)  # started: its first advance has not run
    env.run_until_idle()
    assert wait_settled(run_id, seconds=0)  # waits for "go" alone
    signal(run_id, "go", "went")
    assert not wait_settled(run_id, seconds=0.05)  # the signal is not taken in yet
    env.run_until_idle()
    assert wait_settled(run_id, seconds=0)  # finished
    run = get_run(run_id)
    assert run.status == "completed" and run.waits == () and run.waiting_for == ""
    assert not wait_settled(str(uuid.uuid4()), seconds=0)  # no such run


def test_a_signal_resumes_the_run_and_is_recorded_with_actor_and_reason(env):
    run_id = start("t.reception", "S-1")
    env.run_until_idle()
    signal(run_id, "received", {"condition": "ok"}, actor="tess", reason="scanned at reception")
    env.run_until_idle()
    run = get_run(run_id)
    assert run.result == {"barcode": "S-1", "condition": "ok"}
    received = next(e for e in run.history if e.kind == "signal_received")
    assert (received.actor, received.reason) == ("tess", "scanned at reception")


def test_a_signal_sent_before_the_run_waits_is_kept(env):
    run_id = start("t.reception", "S-1")
    signal(run_id, "received", {"condition": "haemolysed"})  # before the first advance
    env.run_until_idle()
    assert get_run(run_id).result["condition"] == "haemolysed"


def test_a_repeated_idempotency_key_is_recorded_once(env):
    run_id = start("t.reception", "S-1")
    assert signal(run_id, "received", {"condition": "ok"}, idempotency_key="scan-77")
    assert not signal(run_id, "received", {"condition": "ok"}, idempotency_key="scan-77")
    assert kinds(run_id).count("signal_received") == 1


def test_a_signal_to_an_unknown_run_is_refused(env):
    with pytest.raises(RunNotFound):
        signal("00000000-0000-0000-0000-000000000000", "received")
    with pytest.raises(RunNotFound):
        signal("not-a-run-id", "received")


def test_many_signals_to_many_runs_are_recorded_in_order_once_each(env):
    first, second = start("t.reception", "S-1"), start("t.reception", "S-2")
    env.run_until_idle()
    recorded = signal_many(
        [
            Signal(first, "note", "a", actor="cobas", idempotency_key="n-1"),
            Signal(second, "received", {"condition": "clotted"}, actor="cobas"),
            Signal(first, "note", "a again", idempotency_key="n-1"),  # same key: once
            Signal(first, "received", {"condition": "ok"}, reason="scanned"),
        ]
    )
    assert recorded == [True, True, False, True]
    history = get_run(first).history
    signals = [(e.data["name"], e.data["payload"]) for e in history if e.kind == "signal_received"]
    assert signals == [("note", "a"), ("received", {"condition": "ok"})]
    assert [e.seq for e in history] == list(range(1, len(history) + 1))  # no gap, no repeat
    env.run_until_idle()
    assert get_run(first).result["condition"] == "ok"
    assert get_run(second).result["condition"] == "clotted"


def test_many_signals_with_one_unknown_run_record_none(env):
    run_id = start("t.reception", "S-1")
    env.run_until_idle()
    before = HistoryEvent.objects.count()
    with pytest.raises(RunNotFound):
        signal_many(
            [
                Signal(run_id, "received", {"condition": "ok"}),
                Signal("00000000-0000-0000-0000-000000000000", "received"),
            ]
        )
    assert HistoryEvent.objects.count() == before
    assert get_run(run_id).status == "waiting"


def test_a_wait_times_out_when_the_virtual_clock_passes_its_deadline(env):
    run_id = start("t.reception", "S-1")
    env.run_until_idle()
    env.advance_time(timedelta(hours=47))
    assert get_run(run_id).status == "waiting"
    env.advance_time(timedelta(hours=2))
    assert get_run(run_id).result == {"barcode": "S-1", "state": "expired"}


@workflow("t.incubate")
async def incubate(ctx):
    started = ctx.now()
    await ctx.sleep(timedelta(weeks=3))
    return (ctx.now() - started).days


def test_a_three_week_sleep_is_one_timer_row_until_it_fires(env):
    run_id = start("t.incubate")
    env.run_until_idle()
    run = get_run(run_id)
    assert run.status == "waiting" and run.waiting_for.startswith("timer until ")
    assert Timer.objects.filter(fired=False).count() == 1
    env.advance_time(timedelta(days=21))
    assert get_run(run_id).result == 21


@workflow("t.retrying")
async def retrying(ctx, label):
    return await ctx.step(flaky, label)


def test_a_failing_step_is_retried_with_backoff_and_each_attempt_is_recorded(env):
    failures_left["c311"] = 2
    run_id = start("t.retrying", "c311")
    env.run_until_idle()
    assert calls["flaky"] == 1  # the retry is not due yet
    env.advance_time(0.9)
    assert calls["flaky"] == 1
    env.advance_time(0.2)  # 1 s after the first failure
    assert calls["flaky"] == 2
    env.advance_time(1.9)
    assert calls["flaky"] == 2
    env.advance_time(0.2)  # 2 s after the second failure
    run = get_run(run_id)
    assert run.result == "c311 ok"
    failed = [e for e in run.history if e.kind == "step_failed"]
    assert [(e.attempt, e.data["error_type"], e.data["final"]) for e in failed] == [
        (1, "ConnectionError", False),
        (2, "ConnectionError", False),
    ]
    completed = next(e for e in run.history if e.kind == "step_completed")
    assert completed.attempt == 3


def test_the_last_attempt_failing_fails_the_run_with_the_error(env):
    failures_left["c311"] = 10
    run_id = start("t.retrying", "c311")
    env.run_until_idle()
    for _ in range(5):
        env.advance_time(10)
    run = get_run(run_id)
    assert calls["flaky"] == 4
    assert run.status == "failed"
    assert run.error == {
        "type": "StepFailed",
        "message": "step 't.flaky' failed after 4 attempt(s): "
        "ConnectionError: instrument c311 busy",
    }


def test_attempt_counts_live_in_the_database(env):
    failures_left["c311"] = 1
    start("t.retrying", "c311")
    env.run_until_idle()
    step_row = StepTask.objects.get(name="t.flaky")
    assert (step_row.status, step_row.attempt) == ("pending", 1)
    assert step_row.next_attempt_at == env.now() + timedelta(seconds=1)


@workflow("t.non_retryable")
async def non_retryable(ctx):
    try:
        await ctx.step(invalid, 99)
    except StepFailed as error:
        return [error.error_type, error.message, error.attempts]


def test_a_non_retryable_error_fails_at_once_and_the_workflow_sees_it(env):
    run_id = start("t.non_retryable")
    env.run_until_idle()
    assert get_run(run_id).result == ["ValueError", "99 is out of range", 1]
    assert calls["invalid"] == 1


@workflow("t.gather")
async def gathered(ctx):
    return await ctx.gather(ctx.step(double, 1), ctx.wait_signal("go"), ctx.step(double, 5))


def test_gather_runs_steps_and_waits_together_and_keeps_argument_order(env):
    run_id = start("t.gather")
    env.run_until_idle()
    assert calls["double"] == 2 and get_run(run_id).waiting_for == "signal 'go'"
    signal(run_id, "go", "went")
    env.run_until_idle()
    assert get_run(run_id).result == [2, "went", 10]


@step("t.release")
def release(reason):
    calls["release"] += 1
    return reason


@workflow("t.cancellable")
async def cancellable(ctx):
    try:
        await ctx.wait_signal("received")
    except Cancelled as cancelled:
        await ctx.step(release, cancelled.reason)
        raise


def test_a_cancelled_run_sees_cancelled_at_its_await_and_cleans_up(env):
    run_id = start("t.cancellable")
    env.run_until_idle()
    assert cancel(run_id, actor="rui", reason="duplicate order")
    env.run_until_idle()
    run = get_run(run_id)
    assert run.status == "cancelled"
    assert calls["release"] == 1
    requested = next(e for e in run.history if e.kind == "cancel_requested")
    assert (requested.actor, requested.reason) == ("rui", "duplicate order")
    assert not cancel(run_id, actor="rui", reason="again")  # already finished


def test_a_cancellation_needs_a_reason(env):
    run_id = start("t.cancellable")
    with pytest.raises(ValueError, match="needs a reason"):
        cancel(run_id, actor="rui", reason=" ")
    assert "cancel_requested" not in kinds(run_id)


@workflow("t.versioned", version=1)
async def versioned_v1(ctx):
    await ctx.wait_signal("go")
    return "v1 path"


@pytest.mark.histories_not_replayed("replayed inside the test, while version 2 exists")
def test_a_run_keeps_its_version_while_new_runs_take_the_newest(env):
    old = start("t.versioned")
    env.run_until_idle()

    @workflow("t.versioned", version=2)
    async def versioned_v2(ctx):
        await ctx.wait_signal("go")
        await ctx.step(double, 21)
        return "v2 path"

    try:
        new = start("t.versioned")
        for run_id in (old, new):
            signal(run_id, "go")
        env.run_until_idle()
        assert (get_run(old).version, get_run(old).result) == (1, "v1 path")
        assert (get_run(new).version, get_run(new).result) == (2, "v2 path")
        assert_every_history_replays()  # version 2 exists only inside this test
    finally:
        unregister_workflow("t.versioned", 2)


@workflow("t.removed", version=1)
async def removed_v1(ctx):
    await ctx.wait_signal("go")
    return "finished on v1"


def test_a_run_whose_version_is_gone_waits_blocked_until_it_is_back(env):
    run_id = start("t.removed")
    env.run_until_idle()
    unregister_workflow("t.removed", 1)
    try:
        signal(run_id, "go")
        env.run_until_idle()
        run = get_run(run_id)
        assert run.status == "blocked"
        assert "workflow 't.removed' version 1 is not registered" in run.waiting_for
    finally:
        workflow("t.removed", version=1)(removed_v1)
    env.run_until_idle()  # the sweep retries blocked runs
    assert get_run(run_id).result == "finished on v1"


@workflow("t.edited")
async def edited(ctx):
    await ctx.step(double, 1)
    await ctx.wait_signal("go")
    return "done"


def test_an_edit_that_changes_recorded_history_blocks_the_run_and_records_nothing(env):
    run_id = start("t.edited")
    env.run_until_idle()
    events_before = HistoryEvent.objects.count()
    original = edited.__code__

    async def changed(ctx):
        await ctx.step(double, 2)  # the history says double(1)
        await ctx.wait_signal("go")
        return "done"

    edited.__code__ = changed.__code__
    env.restart_workers()  # new code means new processes: nothing old is kept in memory
    try:
        signal(run_id, "go")
        env.run_until_idle()
        run = get_run(run_id)
        assert run.status == "blocked"
        assert run.waiting_for == (
            "position 1: the history recorded step 't.double' with [1], "
            "but the code now asks for step 't.double' with [2]"
        )
        assert HistoryEvent.objects.count() == events_before + 1  # only the signal itself
    finally:
        edited.__code__ = original
        env.restart_workers()
    env.run_until_idle()
    assert get_run(run_id).result == "done"


@workflow("t.patched")
async def patched_flow(ctx):
    await ctx.wait_signal("received")
    if ctx.patched("qc-review"):
        await ctx.step(double, 100)
    return "reported"


def test_patched_takes_the_new_path_for_new_history_only(env):
    run_id = start("t.patched")
    signal(run_id, "received")
    env.run_until_idle()
    assert calls["double"] == 1
    assert "patch_marker" in kinds(run_id)


@workflow("t.whoami")
async def who(ctx):
    return await ctx.step(whoami)


def test_a_step_receives_a_stable_idempotency_key(env):
    run_id = start("t.whoami")
    env.run_until_idle()
    assert get_run(run_id).result == {"key": f"{run_id}:1", "attempt": 1}


def test_a_step_whose_worker_died_is_retried_after_its_lease(env):
    run_id = start("t.sequence", 5)
    env._backend.queue.clear()  # the messages are lost ...
    from workflows import executor

    executor.advance_run(run_id)
    env._backend.queue.clear()
    step_row = StepTask.objects.get()
    claim = store.claim_step(step_row.pk, lease=store.DEFAULT_LEASE)  # ... a worker takes it
    assert claim is not None  # ... and dies without a word
    env.run_until_idle()
    assert get_run(run_id).status == "running"
    env.advance_time(store.DEFAULT_LEASE + timedelta(seconds=1))
    assert get_run(run_id).status == "running"  # the attempt failed; its retry backs off 1 s
    env.advance_time(1)
    run = get_run(run_id)
    assert run.result == {"a": 10, "b": 20}
    lost = next(e for e in run.history if e.kind == "step_failed")
    assert (lost.attempt, lost.data["error_type"]) == (1, "StepTimeout")


def test_lost_messages_are_redispatched_by_the_sweep(env):
    run_id = start("t.sequence", 2)
    env._backend.queue.clear()  # the broker lost everything
    env.run_until_idle()
    assert get_run(run_id).result == {"a": 4, "b": 8}
