"""The replay core, without a database: a history is a list, time is whatever the test says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from workflows.errors import Cancelled, SignalTimeout, StepFailed
from workflows.replay import Event, Outcome, Session, replay

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class History:
    """A stand-in for the store: appends what an outcome says to record, with times. Like a
    real database, each event is stamped a little later than the one before it (``spacing``),
    so a decision recorded after the event it took has a time of its own."""

    def __init__(self, fn, *args, spacing=timedelta(microseconds=317)):
        self.fn, self.args = fn, list(args)
        self.clock = T0
        self.spacing = spacing
        self.events: list[Event] = []
        self._append("run_started", data={"args": self.args})

    def _append(self, kind, cmd=None, attempt=None, data=None):
        at = self.clock + self.spacing * len(self.events)
        self.events.append(Event(len(self.events) + 1, kind, at, cmd, attempt, dict(data or {})))

    def advance(self) -> Outcome:
        outcome = replay(self.fn, self.args, run_id="run-1", events=self.events)
        self._check_session_agrees(outcome)
        for new in outcome.new_events:
            self._append(new.kind, new.cmd, data=new.data)
        if self.session is not None:
            self.session.record(self.events)
        return outcome

    session: Session | None = None

    def _check_session_agrees(self, replayed: Outcome) -> None:
        """A session kept from the previous advance and fed only the new events must decide
        exactly what replaying the whole history decides. New code (a deploy) starts afresh."""
        if self.session is None or self.session.fn is not self.fn:
            self.session = Session(self.fn, self.args, run_id="run-1", events=self.events)
            fed = self.session.outcome
        else:
            fed = self.session.feed(self.events)
        assert fed == replayed
        if not self.session.alive:
            self.session = None

    def tick(self, seconds):
        self.clock += timedelta(seconds=seconds)

    def complete(self, cmd, result, attempt=1):
        self._append("step_completed", cmd, attempt, {"result": result})

    def fail(self, cmd, error_type, message, attempt, final):
        self._append(
            "step_failed", cmd, attempt,
            {"error_type": error_type, "message": message, "final": final},
        )  # fmt: skip

    def signal(self, name, payload=None):
        self._append("signal_received", data={"name": name, "payload": payload})

    def fire(self, cmd):
        self._append("timer_fired", cmd)

    def cancel(self, reason):
        self._append("cancel_requested", data={"reason": reason})

    def kinds(self):
        return [e.kind for e in self.events]


def step_a(x):  # plain functions stand in for registered steps
    return x


step_a.step_name = "a"


async def two_steps(ctx, x):
    first = await ctx.step(step_a, x)
    second = await ctx.step("b", first + 1)
    return [first, second]


def test_a_new_run_schedules_its_first_step_and_waits_for_it():
    history = History(two_steps, 1)
    outcome = history.advance()
    assert outcome.status == "running"
    assert outcome.waiting_for == "step 'a'"
    assert [(s.cmd, s.name, s.args) for s in outcome.steps] == [(1, "a", [1])]
    assert history.kinds() == ["run_started", "step_scheduled"]


def test_completed_steps_return_their_recorded_result_without_being_scheduled_again():
    history = History(two_steps, 1)
    history.advance()
    history.complete(1, 10)
    outcome = history.advance()
    assert [(s.cmd, s.name, s.args) for s in outcome.steps] == [(2, "b", [11])]
    history.complete(2, 12)
    outcome = history.advance()
    assert outcome.status == "completed"
    assert outcome.result == [10, 12]
    assert outcome.steps == []
    assert history.kinds()[-1] == "run_completed"


def test_a_replay_of_a_finished_history_records_nothing_new():
    history = History(two_steps, 1)
    history.advance()
    history.complete(1, 10)
    history.advance()
    history.complete(2, 12)
    history.advance()
    again = replay(two_steps, [1], run_id="run-1", events=history.events[:-1])
    assert again.status == "completed"
    assert [e.kind for e in again.new_events] == ["run_completed"]


async def catches_failure(ctx):
    try:
        await ctx.step("flaky")
    except StepFailed as error:
        return {"failed": error.step, "type": error.error_type, "message": error.message}


def test_a_recorded_final_failure_is_raised_as_step_failed():
    history = History(catches_failure)
    history.advance()
    history.fail(1, "ValueError", "bad input", attempt=1, final=False)
    assert history.advance().status == "running"  # a retry is not the end
    history.fail(1, "ValueError", "bad input", attempt=2, final=True)
    outcome = history.advance()
    assert outcome.status == "completed"
    assert outcome.result == {"failed": "flaky", "type": "ValueError", "message": "bad input"}


async def lets_failure_escape(ctx):
    await ctx.step("flaky")


def test_an_uncaught_step_failure_fails_the_run_with_its_message():
    history = History(lets_failure_escape)
    history.advance()
    history.fail(1, "KeyError", "'x'", attempt=3, final=True)
    outcome = history.advance()
    assert outcome.status == "failed"
    assert outcome.error == {
        "type": "StepFailed",
        "message": "step 'flaky' failed after 3 attempt(s): KeyError: 'x'",
    }


async def waits_for_receipt(ctx):
    payload = await ctx.wait_signal("received")
    return payload["condition"]


def test_a_wait_for_a_signal_costs_nothing_until_the_signal_arrives():
    history = History(waits_for_receipt)
    outcome = history.advance()
    assert outcome.status == "waiting"
    assert outcome.waiting_for == "signal 'received'"
    assert outcome.steps == [] and outcome.timers == []
    history.signal("received", {"condition": "ok"})
    outcome = history.advance()
    assert outcome.status == "completed" and outcome.result == "ok"
    assert history.kinds()[-2:] == ["signal_consumed", "run_completed"]


def test_a_signal_sent_before_the_wait_is_kept_for_it():
    history = History(waits_for_receipt)
    history.signal("received", {"condition": "haemolysed"})
    outcome = history.advance()
    assert outcome.result == "haemolysed"


async def two_waits(ctx):
    return [await ctx.wait_signal("scan"), await ctx.wait_signal("scan")]


def test_each_signal_is_consumed_once_in_arrival_order():
    history = History(two_waits)
    history.signal("scan", 1)
    history.signal("other", "ignored")
    history.signal("scan", 2)
    history.signal("scan", 3)
    outcome = history.advance()
    assert outcome.result == [1, 2]


async def waits_with_timeout(ctx):
    try:
        return await ctx.wait_signal("received", timeout=3600)
    except SignalTimeout:
        return "expired"


def test_a_wait_with_a_timeout_starts_a_timer_and_times_out_when_it_fires():
    history = History(waits_with_timeout)
    outcome = history.advance()
    assert [(t.cmd, t.fire_at) for t in outcome.timers] == [(1, T0 + timedelta(hours=1))]
    assert outcome.waiting_for == "signal 'received' until 2026-12-01T10:00Z"
    deadline = (T0 + timedelta(hours=1)).isoformat()
    assert outcome.waits == [{"kind": "signal", "name": "received", "until": deadline}]
    history.tick(3600)
    history.fire(1)
    outcome = history.advance()
    assert outcome.result == "expired"
    # A signal after the timeout is kept in the history but changes nothing.
    history.signal("received", "late")
    assert replay(waits_with_timeout, [], run_id="run-1", events=history.events).result == "expired"


def test_a_signal_recorded_before_the_timer_fired_wins_even_if_processed_later():
    history = History(waits_with_timeout)
    history.advance()
    history.signal("received", "in time")
    history.fire(1)  # both arrived before the run was advanced again
    assert history.advance().result == "in time"


async def sleeps(ctx):
    before = ctx.now()
    await ctx.sleep(timedelta(days=21))
    return [before.isoformat(), ctx.now().isoformat()]


def test_sleep_is_a_durable_timer_and_now_follows_the_history():
    history = History(sleeps)
    outcome = history.advance()
    assert outcome.waiting_for == "timer until 2026-12-22T09:00Z"
    fire_at = (T0 + timedelta(days=21)).isoformat()
    assert outcome.waits == [{"kind": "timer", "name": "", "until": fire_at}]
    history.tick(21 * 86400)
    history.fire(1)
    fired = history.events[-1]
    outcome = history.advance()
    assert fired.created_at - T0 > timedelta(days=21)
    assert outcome.result == [T0.isoformat(), fired.created_at.isoformat()]


async def gathers(ctx):
    return await ctx.gather(ctx.step("x", 1), ctx.wait_signal("go"), ctx.step("y", 2))


def test_gather_schedules_everything_at_once_and_returns_results_in_argument_order():
    history = History(gathers)
    outcome = history.advance()
    assert [s.name for s in outcome.steps] == ["x", "y"]
    assert outcome.waiting_for == "step 'x' and signal 'go' and step 'y'"
    assert outcome.waits == [
        {"kind": "step", "name": "x", "until": None, "args": [1]},
        {"kind": "signal", "name": "go", "until": None},
        {"kind": "step", "name": "y", "until": None, "args": [2]},
    ]
    history.complete(3, "Y")
    history.signal("go", "G")
    outcome = history.advance()
    assert outcome.waiting_for == "step 'x'"
    assert outcome.waits == [{"kind": "step", "name": "x", "until": None, "args": [1]}]
    history.complete(1, "X")
    assert history.advance().result == ["X", "G", "Y"]


async def changed_step(ctx, x):
    first = await ctx.step("a", x)
    second = await ctx.step("c", first + 1)  # was "b" when the run started
    return [first, second]


def test_a_different_step_at_a_recorded_position_blocks_the_run_and_records_nothing():
    history = History(two_steps, 1)
    history.advance()
    history.complete(1, 10)
    history.advance()
    before = list(history.events)
    history.fn = changed_step
    outcome = history.advance()
    assert outcome.status == "blocked"
    assert outcome.blocked_reason == (
        "position 2: the history recorded step 'b' with [11], but the code now asks for "
        "step 'c' with [11]"
    )
    assert history.events == before


def test_different_arguments_at_a_recorded_position_block_the_run():
    history = History(two_steps, 1)
    history.advance()
    outcome = replay(two_steps, [2], run_id="run-1", events=history.events)
    assert outcome.status == "blocked"
    assert "position 1" in outcome.blocked_reason and "[2]" in outcome.blocked_reason


async def one_step(ctx, x):
    return await ctx.step("a", x)


def test_code_that_finishes_before_the_recorded_history_ends_blocks_the_run():
    history = History(two_steps, 1)
    history.advance()
    history.complete(1, 10)
    history.advance()
    outcome = replay(one_step, [1], run_id="run-1", events=history.events)
    assert outcome.status == "blocked"
    assert "position 2" in outcome.blocked_reason
    assert "finishes before reaching it" in outcome.blocked_reason


async def swallows_everything(ctx):
    try:
        await ctx.step("renamed")
    except Exception:
        return "swallowed"


def test_workflow_code_cannot_swallow_a_mismatch():
    history = History(one_step, 1)
    history.advance()
    outcome = replay(swallows_everything, [], run_id="run-1", events=history.events)
    assert outcome.status == "blocked"


async def awaits_asyncio(ctx):
    import asyncio

    await asyncio.sleep(0)


def test_awaiting_something_that_is_not_a_workflow_operation_blocks_the_run():
    outcome = History(awaits_asyncio).advance()
    assert outcome.status == "blocked"
    assert "not a workflow operation" in outcome.blocked_reason


async def patched_flow(ctx):
    await ctx.wait_signal("received")
    if ctx.patched("qc-review"):
        await ctx.step("qc_review")
    return await ctx.step("report")


async def original_flow(ctx):
    await ctx.wait_signal("received")
    return await ctx.step("report")


def test_patched_keeps_old_runs_on_the_old_path_and_sends_new_ones_down_the_new():
    old = History(original_flow)
    old.signal("received")
    old.advance()  # the old code scheduled "report" at position 2
    old.fn = patched_flow
    outcome = old.advance()
    assert outcome.status == "running" and outcome.steps == []  # still waiting for "report"
    old.complete(2, "old report")
    assert old.advance().result == "old report"

    new = History(patched_flow)
    new.signal("received")
    outcome = new.advance()
    assert [s.name for s in outcome.steps] == ["qc_review"]
    assert "patch_marker" in new.kinds()
    new.complete(3, None)
    new.advance()
    new.complete(4, "new report")
    assert new.advance().result == "new report"


def test_patched_is_true_for_a_run_that_reaches_the_change_after_it_was_deployed():
    history = History(original_flow)
    assert history.advance().status == "waiting"  # waiting before the change point
    history.fn = patched_flow
    history.signal("received")
    outcome = history.advance()
    assert [s.name for s in outcome.steps] == ["qc_review"]


async def cleans_up(ctx):
    try:
        await ctx.wait_signal("received")
    except Cancelled as cancelled:
        await ctx.step("release_slot", cancelled.reason)
        raise


def test_cancel_is_seen_at_the_current_await_and_the_workflow_may_clean_up():
    history = History(cleans_up)
    history.advance()
    history.cancel("duplicate order")
    outcome = history.advance()
    assert [(s.name, s.args) for s in outcome.steps] == [("release_slot", ["duplicate order"])]
    history.signal("received")  # too late: the wait was cancelled
    history.complete(2, None)
    outcome = history.advance()
    assert outcome.status == "cancelled"
    assert history.kinds()[-1] == "run_cancelled"
    assert "signal_consumed" not in history.kinds()


async def cancelled_gather(ctx):
    await ctx.gather(ctx.step("x"), ctx.wait_signal("go"))


def test_cancel_during_gather_is_raised_once_and_replays_the_same_way():
    history = History(cancelled_gather)
    history.advance()
    history.complete(1, "done")
    history.cancel("operator")
    assert history.advance().status == "cancelled"
    again = replay(cancelled_gather, [], run_id="run-1", events=history.events[:-1])
    assert again.status == "cancelled"


async def raises(ctx):
    raise RuntimeError("lab closed")


def test_an_exception_from_workflow_code_fails_the_run():
    outcome = History(raises).advance()
    assert outcome.status == "failed"
    assert outcome.error == {"type": "RuntimeError", "message": "lab closed"}


async def makes_ids(ctx):
    return [str(ctx.uuid4()), str(ctx.uuid4()), ctx.run_id]


def test_uuid4_is_stable_across_replays_and_distinct_within_a_run():
    first = History(makes_ids).advance().result
    second = History(makes_ids).advance().result
    assert first == second
    assert first[0] != first[1] and first[2] == "run-1"


async def returns_a_set(ctx):
    return {1, 2}


def test_a_result_that_is_not_json_fails_the_run_clearly():
    outcome = History(returns_a_set).advance()
    assert outcome.status == "failed"
    assert "must be JSON-serialisable" in outcome.error["message"]


def test_step_arguments_must_be_json():
    async def bad_args(ctx):
        await ctx.step("a", object())

    outcome = History(bad_args).advance()
    assert outcome.status == "failed"
    assert "arguments of step 'a' must be JSON-serialisable" in outcome.error["message"]


@pytest.mark.parametrize("steps", [10, 100, 1000])
def test_long_histories_replay_to_the_same_place(steps):
    async def many(ctx):
        total = 0
        for i in range(steps):
            total += await ctx.step("inc", i)
        return total

    history = History(many)
    for i in range(steps):
        history.advance()
        history.complete(i + 1, i)
    assert history.advance().result == sum(range(steps))
