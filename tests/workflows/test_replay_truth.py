"""The replay core decides once and reads its decisions back: the time a workflow sees, where a
cancellation lands, which path a patch takes, and when a timer stops are the same live (a
session fed only new events) and on every replay from the top. No database: a history is a
list whose events are stamped a little apart, as a real database stamps them."""

from __future__ import annotations

from datetime import timedelta

from tests.workflows.test_replay import T0, History
from workflows.errors import Cancelled, SignalTimeout
from workflows.replay import replay

DEADLINE = T0 + timedelta(hours=6)


def replayed(history):
    """The whole history replayed from the top, as another worker would."""
    return replay(history.fn, history.args, run_id="run-1", events=history.events)


def started(history, kind, cmd):
    return next(e for e in history.events if e.kind == kind and e.cmd == cmd)


# --- the workflow's clock ---------------------------------------------------------------------


async def two_waits_before_a_deadline(ctx):
    """The shape of a sample with two assays: each wait ends at the same stability deadline,
    worked out from the workflow's clock as earlier lifecycle code did."""
    for name in ("batched:GLU", "batched:K"):
        left = (DEADLINE - ctx.now()).total_seconds()
        await ctx.wait_signal(name, timeout=left)
    return ctx.now().isoformat()


def test_now_after_a_signal_is_the_signals_time_live_and_on_every_replay():
    history = History(two_waits_before_a_deadline)
    history.advance()
    history.tick(60)
    history.signal("batched:GLU")
    arrived = history.events[-1].created_at
    outcome = history.advance()  # the session fed the signal agrees with a replay (History)
    assert outcome.status == "waiting"
    second = started(history, "wait_started", 2)
    consumed = started(history, "signal_consumed", 1)
    assert consumed.created_at > arrived  # the decision has a time of its own
    assert second.data["fire_at"] == DEADLINE.isoformat()  # from the signal's time: exact
    history.signal("batched:K")
    assert history.advance().status == "completed"
    again = replayed(history)
    assert (
        again.status == "completed"
        and again.drift == []
        and again.new_events[0].kind == ("run_completed")
    )


async def reads_the_wall_clock(ctx):
    """What must never be done: a deadline from a clock that is not the history's."""
    history_clock = CLOCK["now"]
    await ctx.wait_signal("go", timeout=(DEADLINE - history_clock).total_seconds())
    return "went"


CLOCK = {"now": T0}


def test_a_deadline_worked_out_differently_on_replay_is_drift_and_the_recorded_one_holds():
    history = History(reads_the_wall_clock)
    history.advance()
    CLOCK["now"] = T0 + timedelta(minutes=5)  # the "clock" moved: a replay works out another
    try:
        again = replayed(history)
    finally:
        CLOCK["now"] = T0
    assert again.status == "waiting"  # not blocked: the recorded deadline stays in force
    assert again.waiting_for == "signal 'go' until 2026-12-01T15:00Z"
    assert again.drift == [
        "position 1: the history recorded a wait for signal 'go' ending at "
        "2026-12-01T15:00:00+00:00, but the code now works out 2026-12-01T14:55:00+00:00"
    ]


async def waits_until(ctx, when):
    try:
        return await ctx.wait_signal("result", until=when)
    except SignalTimeout:
        return "too late"


def test_a_wait_until_a_moment_records_that_moment_and_times_out_there():
    history = History(waits_until, DEADLINE)
    history.fn = lambda ctx, when: waits_until(ctx, DEADLINE)
    outcome = history.advance()
    assert outcome.timers[0].fire_at == DEADLINE
    assert started(history, "wait_started", 1).data["fire_at"] == DEADLINE.isoformat()
    history.tick(6 * 3600)
    history.fire(1)
    assert history.advance().result == "too late"


def test_a_wait_until_a_moment_already_past_times_out_at_once():
    past = T0 - timedelta(hours=1)
    history = History(waits_until, past)
    history.fn = lambda ctx, when: waits_until(ctx, past)
    outcome = history.advance()
    assert outcome.timers[0].fire_at == T0  # not before the run's own time


# --- cancellation -----------------------------------------------------------------------------


async def three_steps(ctx):
    for name in ("one", "two", "three"):
        await ctx.step(name)
    return "all three"


def test_a_cancel_recorded_while_a_step_ran_lands_on_that_step_and_schedules_nothing():
    history = History(three_steps)
    history.advance()
    history.complete(1, None)
    history.advance()  # step two scheduled
    history.cancel("wrong patient")  # while step two runs
    history.complete(2, "two done")
    outcome = history.advance()
    assert outcome.status == "cancelled"
    assert outcome.steps == []
    assert history.kinds()[-3:] == ["step_completed", "cancel_delivered", "run_cancelled"]
    assert started(history, "cancel_delivered", 2)
    assert outcome.ended == [2]


def test_a_cancel_during_the_last_step_ends_the_run_cancelled_not_completed():
    history = History(three_steps)
    for cmd in (1, 2):
        history.advance()
        history.complete(cmd, None)
    history.advance()
    history.cancel("withdrawn")
    history.complete(3, "three done")
    assert history.advance().status == "cancelled"


async def cleans_up_after(ctx):
    try:
        await ctx.step("one")
        await ctx.step("two")
    except Cancelled:
        await ctx.step("release_slot")
        raise


def test_a_cancel_after_a_step_completed_lands_on_the_next_await_before_it_begins():
    history = History(cleans_up_after)
    history.advance()
    history.complete(1, "one done")  # completed first, then the cancellation
    history.cancel("duplicate order")
    outcome = history.advance()
    assert [(s.cmd, s.name) for s in outcome.steps] == [(3, "release_slot")]  # not "two"
    assert started(history, "cancel_delivered", 2)
    assert not any(e.kind == "step_scheduled" and e.cmd == 2 for e in history.events)
    history.complete(3, None)
    assert history.advance().status == "cancelled"
    assert replayed(history).new_events[0].kind == "run_cancelled"  # a replay lands it there too


async def gathers_a_step_and_a_timer(ctx):
    try:
        await ctx.gather(ctx.step("measure"), ctx.sleep(3600))
    except Cancelled:
        await ctx.step("release_slot")
        raise


def test_a_cancelled_gather_ends_the_work_of_every_await_in_it_and_cleans_up_after_them():
    history = History(gathers_a_step_and_a_timer)
    history.advance()
    history.cancel("operator")
    outcome = history.advance()
    assert sorted(outcome.ended) == [1, 2]  # the step abandoned, the timer stopped
    assert [(s.cmd, s.name) for s in outcome.steps] == [(3, "release_slot")]
    history.complete(3, None)
    assert history.advance().status == "cancelled"


async def waits_for_a_reviewer(ctx):
    try:
        await ctx.wait_signal("review", timeout=48 * 3600)
    except Cancelled:
        return "withdrawn"
    return "reviewed"


def test_a_cancelled_wait_stops_its_timer_and_a_signal_after_it_is_not_taken():
    history = History(waits_for_a_reviewer)
    history.advance()
    history.cancel("withdrawn")
    history.signal("review")
    outcome = history.advance()
    assert outcome.result == "withdrawn" and outcome.ended == [1]
    assert "signal_consumed" not in history.kinds()


def test_a_signal_that_arrived_before_the_cancellation_is_taken_first():
    history = History(waits_for_a_reviewer)
    history.advance()
    history.signal("review")
    history.cancel("withdrawn")
    assert history.advance().result == "reviewed"


# --- patches ----------------------------------------------------------------------------------


async def before_the_change(ctx):
    await ctx.wait_signal("received")
    await ctx.wait_signal("review")
    return "reported"


async def after_the_change(ctx):
    await ctx.wait_signal("received")
    if ctx.patched("qc-hold"):
        await ctx.step("qc_hold")
    await ctx.wait_signal("review")
    if ctx.patched("qc-hold"):  # the same change, checked again further on
        await ctx.step("qc_release")
    return "reported"


def test_patched_false_is_remembered_like_true_for_the_rest_of_the_run():
    history = History(before_the_change)
    history.signal("received")
    history.advance()  # waiting for review, past the change point
    history.fn = after_the_change
    history.signal("review")
    outcome = history.advance()
    assert outcome.result == "reported"
    assert "patch_marker" not in history.kinds()
    assert not any(e.kind == "step_scheduled" for e in history.events)


# --- timers of answered waits -----------------------------------------------------------------


def test_a_wait_answered_before_its_deadline_stops_its_timer():
    history = History(waits_for_a_reviewer)
    assert [t.cmd for t in history.advance().timers] == [1]
    history.signal("review")
    outcome = history.advance()
    assert outcome.result == "reviewed" and outcome.ended == [1]


def test_a_wait_answered_at_once_never_starts_its_timer():
    history = History(waits_for_a_reviewer)
    history.signal("review")  # sent before the run first waited
    outcome = history.advance()
    assert outcome.result == "reviewed"
    assert outcome.timers == [] and outcome.ended == []
    assert started(history, "wait_started", 1).data["fire_at"]  # the deadline stays recorded


async def a_step_beside_a_timer(ctx):
    """A gather's awaits all begin when the gather does: the timer's hour runs from then,
    whenever the step beside it completes."""
    done, _ = await ctx.gather(ctx.step("measure"), ctx.sleep(3600))
    return done


def test_a_timer_in_a_gather_runs_from_the_gathers_start_live_and_on_every_replay():
    history = History(a_step_beside_a_timer)
    history.advance()
    timer = started(history, "timer_started", 2)
    assert timer.data["fire_at"] == (history.events[0].created_at + timedelta(hours=1)).isoformat()
    history.tick(600)  # the step completes ten minutes later
    history.complete(1, "done")
    outcome = history.advance()  # the session and a replay from the top agree (History)
    assert outcome.status == "waiting" and outcome.drift == []
    assert outcome.waiting_for == f"timer until {timer.data['fire_at'][:16]}Z"
    history.tick(3600)
    history.fire(2)
    again = history.advance()
    assert again.status == "completed" and again.result == "done" and again.drift == []
    assert replayed(history).drift == []
