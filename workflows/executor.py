"""Units of work: advance a run, execute a step, sweep for what a lost message left behind.

Each takes ids, reads the truth from the database and records through ``workflows.store``.
Running any of them twice, late or concurrently gives the same history.
"""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction

from workflows import clock, lost, registry, sessions, store
from workflows.attempt import run_attempt
from workflows.dispatch import backend
from workflows.errors import ResultNotJSON
from workflows.models import FINISHED, SWEEP_HEARTBEAT, Run, StepTask
from workflows.replay import Outcome, Session

log = logging.getLogger(__name__)

REDISPATCH_AFTER = timedelta(seconds=60)
UNKNOWN_STEP_RETRY = timedelta(seconds=30)


@dataclass(frozen=True)
class StepInfo:
    """What a running step may know about itself (``workflows.api.current_step()``)."""

    run_id: str
    seq: int
    attempt: int
    idempotency_key: str


current_step_info: contextvars.ContextVar[StepInfo | None] = contextvars.ContextVar(
    "current_step_info", default=None
)


# --- advance -----------------------------------------------------------------------------------


def advance_run(run_id: str, *, inline_queue: str | None = None) -> store.Claim | None:
    """Replay the run and record what comes next (see ``advance_locked`` for ``inline_queue``)."""
    fast = _advance_unlocked(run_id, inline_queue)
    if fast is not _SLOW:
        return fast  # type: ignore[return-value]
    with transaction.atomic():
        # Whoever holds the lock sees every event committed before it got it; events appended
        # after that must wait for the lock and ring again. So skipping a locked run loses nothing.
        run = store.lock_run(run_id, skip_locked=True)
        if run is None or run.status in FINISHED or lost.parked(run):
            return None
        return advance_locked(run, inline_queue=inline_queue)


def advance_locked(run: Run, *, inline_queue: str | None = None) -> store.Claim | None:
    """Advance a locked run; dispatches the steps it schedules.

    With ``inline_queue``, a single new step on that queue (without its own timeout) is not
    sent: it is created already claimed and started, and its claim returned for the caller to
    run at once (if the caller dies first, the lease and the sweep recover it).
    """
    if lost.parked(run):  # its code killed its worker too often: it waits for a person
        store.save_run(run, needs_advance=True)  # with what came in meanwhile (a step's result)
        return None
    definition = registry.get_workflow(run.workflow, run.version)
    if definition is None:
        store.mark_blocked(
            run,
            f"workflow {run.workflow!r} version {run.version} is not registered in this process: "
            "deploy code that still provides it (runs finish on the version they started on)",
        )
        return None
    session = _session(run, definition)
    if run.lost_advances:  # its code ran through: the advances lost before no longer count
        store.forget_lost_advances(run)
    seen = run.last_seq  # the session has taken in every event up to here
    outcome = session.outcome
    steps = _registered_steps(outcome)
    if steps is None:
        session.close()
        unknown = sorted({s.name for s in outcome.steps if registry.get_step(s.name) is None})
        store.mark_blocked(run, f"the workflow asks for unregistered step(s): {', '.join(unknown)}")
        return None
    created, claim = store.apply_outcome(
        run, outcome, steps, claim_cmd=_inline_cmd(outcome, steps, inline_queue)
    )
    for step in created:
        if claim is None or step.pk != claim.step.pk:
            send_step(step)
    session.record(store.events_after(run, seen))  # what it decided, now with their seqs
    sessions.keep_after_commit(str(run.pk), sessions.Kept(session, run.last_seq, run.workflow,
                                                          run.version))  # fmt: skip
    return claim


def _session(run: Run, definition: registry.WorkflowDef) -> Session:
    """The run's workflow, driven up to its next await: fed only the new events when this
    process kept it suspended since its last advance, else replayed from the top."""
    kept = sessions.take(str(run.pk))
    if kept is not None:
        if kept.session.fn is definition.fn and kept.seen <= run.last_seq:
            kept.session.feed(store.events_after(run, kept.seen))
            return kept.session
        kept.session.close()
    return Session(definition.fn, run.args, run_id=str(run.pk), events=store.load_events(run))


def send_step(step: StepTask, countdown: float | None = None) -> None:
    definition = registry.get_step(step.name)
    timeout = definition.timeout if definition is not None else None
    backend().send_step(step.pk, step.queue, countdown, timeout)


# --- steps -------------------------------------------------------------------------------------


def execute_step(step_id: int) -> store.Claim | None:
    """Run one attempt of a step and record its outcome once.

    Returns a claim on the run's next step when exactly one was scheduled on the same queue:
    it is already claimed and started, no message was sent for it, and the caller should run it
    at once with ``run_claimed`` (saving a broker round trip and a commit per step).
    """
    step = StepTask.objects.filter(pk=step_id).only("name").first()
    if step is None:
        return None
    definition = registry.get_step(step.name)
    with transaction.atomic():
        claim = store.claim_step(step_id, lease=_lease(definition))
        if claim is None:
            return None  # not due, already running elsewhere, or finished
        if definition is None:
            store.release_unowned_step(
                claim.step,
                f"step {step.name!r} is not registered in this worker",
                clock.now() + UNKNOWN_STEP_RETRY,
            )
            log.error("step %r is not registered in this worker", step.name)
            return None
        run = store.lock_run(str(claim.step.run_id))
        assert run is not None
        store.record_step_started(run, claim)
    return run_claimed(claim)


def _lease(definition: registry.StepDef | None) -> timedelta:
    if definition is not None and definition.timeout:
        return timedelta(seconds=definition.timeout) + store.LEASE_GRACE
    return store.DEFAULT_LEASE


def run_claimed(claim: store.Claim) -> store.Claim | None:
    """Run a claimed, started attempt; record its outcome; claim the follow-up if any."""
    definition = registry.get_step(claim.step.name)
    assert definition is not None  # a claim is only handed out for a registered step
    info = StepInfo(str(claim.step.run_id), claim.step.cmd, claim.attempt,
                    claim.step.idempotency_key)  # fmt: skip
    token = current_step_info.set(info)
    try:  # its time limit and a result that is not JSON are judged here too (see attempt.py)
        result, error = run_attempt(definition, claim.step.args, claim.attempt)
    finally:
        current_step_info.reset(token)

    follow_on = _follow_on_queue(definition, claim)
    if error is None:
        fast = _finish_with_kept_session(claim, result, follow_on)
        if fast is not _SLOW:
            return fast  # type: ignore[return-value]
    with transaction.atomic():
        if error is None:
            run = store.lock_and_finish_step(claim, result=result)
            if run is None:
                return None
        else:
            run = store.lock_run(str(claim.step.run_id))
            assert run is not None
            retry_in = _retry_delay(definition, claim.attempt, error)
            recorded = store.fail_step_attempt(
                run, claim, error_type=type(error).__name__, message=str(error), retry_in=retry_in
            )
            if not recorded:
                return None
            if retry_in is not None:
                send_step(claim.step, retry_in)
                return None
        if run.status in FINISHED:
            store.save_run(run)
            return None
        return advance_locked(run, inline_queue=follow_on)


_SLOW = object()


def _finish_with_kept_session(claim: store.Claim, result: Any, queue: str | None) -> object:
    """The common case in one statement: this process kept the run's workflow suspended, so it
    works out what follows the step's result before taking any lock, then records both at
    once, provided nothing else happened to the run meanwhile. Returns the follow-up claim (or
    None), or ``_SLOW`` with nothing recorded when the general path must do it."""
    run_id = str(claim.step.run_id)
    kept = sessions.take(run_id)
    if kept is None:
        return _SLOW
    definition = registry.get_workflow(kept.workflow, kept.version)
    if definition is None or definition.fn is not kept.session.fn:
        kept.session.close()
        return _SLOW
    completed = store.completed_event(claim, result, seq=kept.seen + 1)
    kept.session.feed([store.as_replayed(completed)])
    return _record_unlocked(run_id, kept, queue, finished=(claim, completed))


def _follow_on_queue(definition: registry.StepDef, claim: store.Claim) -> str | None:
    """The queue whose next step this task may run itself, or None: after a step with a
    timeout, whose Celery time limit covers the whole task, the next step goes through the
    broker with limits of its own."""
    return None if definition.timeout else claim.step.queue


def _advance_unlocked(run_id: str, inline_queue: str | None) -> object:
    """An advance without the lock: read the run and its new events in one round trip, let the
    workflow decide (fed only the new events when this process kept it), and record the
    decision in one statement that checks nothing happened meanwhile. Returns the follow-up
    claim (or None), or ``_SLOW`` with nothing recorded when the locked path must do it."""
    kept = sessions.take(run_id)
    peeked = store.peek_run(run_id, after=kept.seen if kept else 0)
    if peeked is None or peeked[0].status not in ("running", "waiting"):
        if kept is not None:
            kept.session.close()
        return None if peeked is not None and peeked[0].status in FINISHED else _SLOW
    run, events = peeked
    definition = registry.get_workflow(run.workflow, run.version)
    if kept is not None:
        if definition is None or kept.session.fn is not definition.fn or kept.seen > run.last_seq:
            kept.session.close()
            return _SLOW
        kept.session.feed(events)
    else:
        if definition is None:
            return _SLOW
        session = Session(definition.fn, run.args, run_id=run_id, events=events)
        kept = sessions.Kept(session, run.last_seq, run.workflow, run.version)
    return _record_unlocked(run_id, kept._replace(seen=run.last_seq), inline_queue)


def _record_unlocked(
    run_id: str,
    kept: sessions.Kept,
    inline_queue: str | None,
    *,
    finished: tuple[store.Claim, Any] | None = None,
) -> object:
    """Record the decision of ``kept.session`` (which has taken in every event up to
    ``kept.seen``, plus ``finished``'s if given) with ``store.record_unlocked``."""
    session, outcome = kept.session, kept.session.outcome
    steps = _registered_steps(outcome)
    if outcome.status == "blocked" or steps is None:
        session.close()
        return _SLOW
    written = store.record_unlocked(
        run_id, seen=kept.seen, outcome=outcome, steps=steps,
        claim_cmd=_inline_cmd(outcome, steps, inline_queue), finished=finished,
    )  # fmt: skip
    if written is None:  # something happened to the run meanwhile
        session.close()
        return _SLOW
    run, created, next_claim = written
    for step in created:
        if next_claim is None or step.pk != next_claim.step.pk:
            send_step(step)
    session.record(store.events_after(run, kept.seen))
    sessions.keep_after_commit(run_id, kept._replace(seen=run.last_seq))
    return next_claim


def _registered_steps(outcome: Outcome) -> dict[str, registry.StepDef] | None:
    """The definitions of the steps an outcome schedules; None if one is not registered."""
    steps = {}
    for scheduled in outcome.steps:
        definition = registry.get_step(scheduled.name)
        if definition is None:
            return None
        steps[scheduled.name] = definition
    return steps


def _inline_cmd(
    outcome: Outcome, steps: dict[str, registry.StepDef], queue: str | None
) -> int | None:
    """The position of the step the caller may run itself: the only step scheduled, on its
    queue, without its own timeout (those go through the broker, where Celery's time limits
    apply)."""
    if queue is None or len(outcome.steps) != 1 or outcome.status in FINISHED:
        return None
    only = steps[outcome.steps[0].name]
    return outcome.steps[0].cmd if only.queue == queue and not only.timeout else None


def _retry_delay(definition: registry.StepDef, attempt: int, error: BaseException) -> float | None:
    policy = definition.retry
    if isinstance(error, ResultNotJSON):
        return None  # running it again would only repeat its side effects
    if attempt >= policy.max_attempts or not policy.is_retryable(error):
        return None
    return policy.delay_after(attempt)


# --- sweep ---------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    timers_fired: int = 0
    leases_expired: int = 0
    steps_redispatched: int = 0
    # Runs with events they have not seen, advanced again: for longer than REDISPATCH_AFTER
    # (their message was most likely lost), or only just (it may still be on its way).
    runs_advanced: int = 0
    runs_nudged: int = 0
    blocked_retried: int = 0  # blocked runs advanced again, as every sweep does
    details: list[str] = field(default_factory=list)

    @property
    def did_work(self) -> bool:
        """Whether it put right something a lost or late message left behind. What every
        sweep does in passing does not count: advancing runs whose advance may still be on
        its way, retrying the runs that stay blocked."""
        return bool(
            self.timers_fired or self.leases_expired or self.steps_redispatched
            or self.runs_advanced
        )  # fmt: skip

    def __str__(self) -> str:
        counts = [
            (self.timers_fired, "timers fired"),
            (self.leases_expired, "leases expired"),
            (self.steps_redispatched, "steps re-sent"),
            (self.runs_advanced, "runs re-advanced"),
            (self.runs_nudged, "runs advanced again early"),
            (self.blocked_retried, "blocked runs retried"),
        ]
        return ", ".join(f"{count} {what}" for count, what in counts if count) or "nothing to do"


def sweep(*, limit: int = 500) -> SweepReport:
    """Re-dispatch what a lost or late message left behind. Safe to run anywhere, any time.
    Notes the time it ran (``Heartbeat`` "sweep") for the operator's metrics."""
    report = SweepReport()
    now = clock.now()
    store.record_heartbeat(SWEEP_HEARTBEAT, now)
    woken: set[str] = set()
    for timer in store.due_timers(now, limit):
        run_id = store.fire_timer(timer.pk)
        if run_id is not None:
            report.timers_fired += 1
            woken.add(run_id)
            backend().send_advance(run_id)
    for step in store.expired_leases(now, limit):
        if _expire_lease(step):
            report.leases_expired += 1
    stale = store.steps_to_redispatch(now, REDISPATCH_AFTER, limit)
    if stale:
        store.mark_dispatched([s.pk for s in stale], now)
        for step in stale:
            send_step(step)
        report.steps_redispatched = len(stale)
    for run_id, unseen_events, changed_at in store.runs_to_advance(limit, parked_at=lost.limit()):
        if run_id in woken:  # its advance was sent a moment ago, with its timer
            continue
        backend().send_advance(run_id)
        if not unseen_events:
            report.blocked_retried += 1
        elif changed_at < now - REDISPATCH_AFTER:
            report.runs_advanced += 1
        else:
            report.runs_nudged += 1
    return report


def _expire_lease(step: StepTask) -> bool:
    """A step ran past its lease: its worker died or it timed out. Count the attempt as failed."""
    definition = registry.get_step(step.name)
    with transaction.atomic():
        run = store.lock_run(str(step.run_id))
        if run is None:
            return False
        claim = store.Claim(step, step.attempt)
        policy = definition.retry if definition else registry.RetryPolicy()
        retry_in = None if step.attempt >= policy.max_attempts else policy.delay_after(step.attempt)
        timeout = f" ({definition.timeout:g}s timeout)" if definition and definition.timeout else ""
        recorded = store.fail_step_attempt(
            run,
            claim,
            error_type="StepTimeout",
            message=f"attempt {step.attempt} did not finish within its lease{timeout}: "
            "the worker was lost or the step ran too long",
            retry_in=retry_in,
        )
        if not recorded:
            return False
        if retry_in is not None:
            send_step(step, retry_in)
        elif run.status not in FINISHED:
            # Advanced by a worker, not here: the workflow's code must never run in the sweep,
            # where code that kills its process would take every sweep down with it.
            backend().send_advance(str(run.pk))
    return True
