"""The only module that writes engine tables.

Every event is appended under the run's row lock (``SELECT ... FOR UPDATE``), which gives each
run one total order of events and one advancer at a time. Steps are claimed with a conditional
UPDATE whose row count decides who owns the attempt, so a duplicated message never records two
results. ``record_unlocked`` decides first and then writes in one statement that takes the lock
and checks that the run's newest event is still the one the decision was based on.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q

from workflows import clock, sql
from workflows.models import (
    FINISHED,
    Heartbeat,
    HistoryEvent,
    Intervention,
    InterventionStatus,
    Run,
    RunStatus,
    StepStatus,
    StepTask,
    Timer,
)
from workflows.registry import StepDef
from workflows.replay import Event, Outcome

# A step without its own timeout holds its lease this long; past it, the sweep presumes the
# worker lost and retries the step. Steps that run longer must declare a timeout.
DEFAULT_LEASE = timedelta(minutes=5)
LEASE_GRACE = timedelta(seconds=5)


def _valid_id(run_id: str) -> bool:
    try:
        uuid.UUID(str(run_id))
    except ValueError:
        return False
    return True


def find_run(run_id: str) -> Run | None:
    return Run.objects.filter(pk=run_id).first() if _valid_id(run_id) else None


def lock_run(run_id: str, *, skip_locked: bool = False) -> Run | None:
    if not _valid_id(run_id):
        return None
    return Run.objects.select_for_update(skip_locked=skip_locked).filter(pk=run_id).first()


def append(
    run: Run,
    kind: str,
    *,
    cmd: int | None = None,
    attempt: int | None = None,
    data: dict[str, Any] | None = None,
    actor: str = "",
    reason: str = "",
    dedupe_key: str | None = None,
) -> None:
    """Append one event. The caller holds the run's row lock (see ``lock_run``) and ends with
    ``save_run`` (or a function that calls it), which writes the events with one INSERT and
    stores the new ``last_seq``."""
    run.last_seq += 1
    event = sql.NewEvent(run.last_seq, kind, cmd, attempt, data or {}, actor or "", reason or "",
                         dedupe_key, clock.now())  # fmt: skip
    _unsaved(run).append(event)


def _unsaved(run: Run) -> list[sql.NewEvent]:
    if not hasattr(run, "_unsaved_events"):
        run._unsaved_events = []  # type: ignore[attr-defined]
    return run._unsaved_events  # type: ignore[attr-defined,no-any-return]


def _written(run: Run) -> list[sql.NewEvent]:
    if not hasattr(run, "_written_events"):
        run._written_events = []  # type: ignore[attr-defined]
    return run._written_events  # type: ignore[attr-defined,no-any-return]


def save_run(run: Run, *, new_steps: Sequence[StepTask] = (), **fields: Any) -> None:
    """Write ``new_steps``, the appended events and the run row, in one round trip."""
    pending = _unsaved(run)
    sql.write(run.pk, pending, new_steps, {"last_seq": run.last_seq, "updated_at": clock.now(),
                                           **fields})  # fmt: skip
    _written(run).extend(pending)
    pending.clear()


def create_run(
    *, workflow: str, version: int, args: list[Any], key: str | None, actor: str
) -> tuple[str, bool]:
    """Insert a run and its ``run_started`` event (one statement); an existing ``(workflow,
    key)`` wins. Returns the run's id and whether it was created."""
    run_id = uuid.uuid4()
    data = {"workflow": workflow, "version": version, "args": args, "key": key}
    if sql.create_run(run_id, workflow, version, key, args, data, actor, clock.now()):
        return str(run_id), True
    return str(Run.objects.values_list("pk", flat=True).get(workflow=workflow, key=key)), False


# Recorded for the audit trail; replay decides nothing from them, so it does not load them:
# a step's start, and people's interventions.
NOT_REPLAYED = [
    "step_started",
    "retry_requested",
    "resume_requested",
    "intervention_requested",
    "intervention_approved",
    "intervention_refused",
    "run_restarted",
    "run_superseded",
]


def load_events(run: Run) -> list[Event]:
    """The run's replayed events."""
    return events_after(run, 0)


def events_after(run: Run, seq: int) -> list[Event]:
    """The run's replayed events after ``seq``: those appended through this ``run`` object come
    from memory; older ones are read from the table."""
    appended = _written(run) + _unsaved(run)
    first_appended = run.last_seq - len(appended) + 1
    stored: list[Event] = []
    if seq + 1 < first_appended:
        rows = HistoryEvent.objects.filter(run=run, seq__gt=seq, seq__lt=first_appended)
        stored = [
            Event(*row)
            for row in rows.exclude(kind__in=NOT_REPLAYED)
            .order_by("seq")
            .values_list("seq", "kind", "created_at", "cmd", "attempt", "data")
        ]
    return stored + [as_replayed(e) for e in appended if e.seq > seq and e.kind not in NOT_REPLAYED]


def mark_blocked(run: Run, reason: str) -> None:
    save_run(run, status=RunStatus.BLOCKED, blocked_reason=reason, needs_advance=False)


def count_lost_advance(run: Run, lost: int, *, park: str | None = None) -> None:
    """Store that ``lost`` advances of the locked run in a row were lost with their worker
    process; with ``park`` (the reason), block the run too (see ``workflows.lost``)."""
    if park is None:
        Run.objects.filter(pk=run.pk).update(lost_advances=lost)
    else:
        save_run(run, status=RunStatus.BLOCKED, blocked_reason=park, needs_advance=False,
                 lost_advances=lost)  # fmt: skip
        run.status, run.blocked_reason = RunStatus.BLOCKED, park
    run.lost_advances = lost


def forget_lost_advances(run: Run) -> None:
    """An advance of the locked run got through: the losses before it no longer count. Only
    called when there were some (the common path forgets them in its own statement)."""
    Run.objects.filter(pk=run.pk).update(lost_advances=0)
    run.lost_advances = 0


def apply_outcome(
    run: Run,
    outcome: Outcome,
    steps: dict[str, StepDef],
    *,
    claim_cmd: int | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> tuple[list[StepTask], Claim | None]:
    """Record what a replay decided; caller holds the lock. Returns the new steps, and a claim
    on the step at ``claim_cmd`` when the caller will run it itself (created already started)."""
    if outcome.status == RunStatus.BLOCKED:
        mark_blocked(run, outcome.blocked_reason)
        return [], None
    now = clock.now()
    created, claim, fields = _stage_outcome(run, outcome, steps, claim_cmd, now + lease, now)
    if outcome.timers:
        Timer.objects.bulk_create(
            [Timer(run=run, cmd=t.cmd, fire_at=t.fire_at) for t in outcome.timers]
        )
    save_run(run, new_steps=created, **fields)
    if outcome.status in FINISHED:
        # Steps still queued or running for a finished run will never be read: stop them.
        sql.end_work(run.pk)
    elif outcome.ended:  # awaits whose outcome is decided: a cancelled one, a wait answered
        sql.end_work(run.pk, outcome.ended)
    return created, claim


def _stage_outcome(
    run: Run,
    outcome: Outcome,
    steps: dict[str, StepDef],
    claim_cmd: int | None,
    lease_expires_at: datetime,
    now: datetime,
) -> tuple[list[StepTask], Claim | None, dict[str, Any]]:
    """Append the outcome's events; build (unsaved) its steps and the run row's new fields."""
    for new in outcome.new_events:
        append(run, new.kind, cmd=new.cmd, data=new.data)
    created = []
    claim = None
    finished = outcome.status in FINISHED
    assert not (finished and outcome.steps), "a finished run schedules no step"
    for scheduled in outcome.steps:
        definition = steps[scheduled.name]
        task = StepTask(
            run=run,
            cmd=scheduled.cmd,
            name=scheduled.name,
            args=scheduled.args,
            queue=definition.queue,
            max_attempts=definition.retry.max_attempts,
            next_attempt_at=now,
            dispatched_at=now,
        )
        if scheduled.cmd == claim_cmd:
            task.status, task.attempt, task.lease_expires_at = (
                StepStatus.RUNNING, 1, lease_expires_at
            )  # fmt: skip
            claim = Claim(task, 1)
            append(run, "step_started", cmd=task.cmd, attempt=1, data={"step": task.name})
        created.append(task)
    fields = {
        "status": outcome.status,
        "result": outcome.result,
        "error": outcome.error,
        "waiting_for": "" if finished else outcome.waiting_for[:500],
        "waits": [] if finished else outcome.waits,
        "blocked_reason": "",
        "needs_advance": False,
        "finished_at": now if finished else None,
    }
    return created, claim, fields


def record_unlocked(
    run_id: Any,
    *,
    seen: int,
    outcome: Outcome,
    steps: dict[str, StepDef],
    claim_cmd: int | None,
    finished: tuple[Claim, sql.NewEvent] | None = None,
) -> tuple[Run, list[StepTask], Claim | None] | None:
    """Record what the workflow decided in one statement (its own transaction), on the
    condition that the run's newest event is still ``seen``, worked out without the lock.

    With ``finished``, a claimed step's attempt and its ``step_completed`` event (at
    ``seen + 1``, already fed to the workflow): the step is marked completed too, if that
    attempt still owns it. None, with nothing written, when a condition does not hold.
    The outcome must be one the statement can record: not blocked.
    """
    assert outcome.status != RunStatus.BLOCKED
    run = Run(pk=run_id, last_seq=seen)
    now = clock.now()
    step_id = attempt = None
    if finished is not None:
        claim, completed = finished
        step_id, attempt = claim.step.pk, claim.attempt
        run.last_seq, now = completed.seq, completed.created_at
        _unsaved(run).append(completed)
    created, next_claim, fields = _stage_outcome(
        run, outcome, steps, claim_cmd, now + DEFAULT_LEASE, now
    )
    pending = _unsaved(run)
    fields = {"last_seq": run.last_seq, "updated_at": now, **fields}
    timers = [(t.cmd, t.fire_at) for t in outcome.timers]
    if not sql.finish_and_write(
        step_id, attempt, run.pk, seen, pending, created, fields, outcome.ended, timers
    ):
        return None
    _written(run).extend(pending)
    pending.clear()
    return run, created, next_claim


def peek_run(run_id: str, *, after: int) -> tuple[Run, list[Event]] | None:
    """A run and its replayed events after ``after``, read without a lock (see
    ``record_unlocked``)."""
    return sql.peek_run(run_id, after, NOT_REPLAYED) if _valid_id(run_id) else None


@dataclass(frozen=True)
class SignalRequest:
    run_id: str
    name: str
    payload: Any
    actor: str
    reason: str
    idempotency_key: str | None


def record_signals(
    requests: Sequence[SignalRequest],
) -> tuple[list[bool], list[str], str | None]:
    """Append each signal to its run (in order), skipping those whose idempotency key the run
    has seen. Returns whether each was recorded, the ids of the unfinished runs that received
    one (to be advanced), and the id of a run that does not exist (then nothing is written).

    Two round trips whatever the number: lock the runs (in id order, so two callers never
    wait for each other crosswise) and read the keys already seen; write events and runs."""
    ids = sorted({r.run_id for r in requests})
    invalid = [i for i in ids if not _valid_id(i)]
    if invalid:
        return [], [], invalid[0]
    keys = sorted(
        {f"signal:{r.idempotency_key}" for r in requests if r.idempotency_key is not None}
    )
    locked, seen = sql.lock_runs(sorted({uuid.UUID(i) for i in ids}), keys)
    missing = [i for i in ids if str(uuid.UUID(i)) not in locked]
    if missing:
        return [], [], missing[0]
    last_seq = {k: seq for k, (seq, _) in locked.items()}
    status = {k: run_status for k, (_, run_status) in locked.items()}
    now = clock.now()
    events: list[tuple[str, sql.NewEvent]] = []
    recorded = []
    for request in requests:
        run_id = str(uuid.UUID(request.run_id))
        dedupe = None
        if request.idempotency_key is not None:
            dedupe = f"signal:{request.idempotency_key}"
            recorded.append((run_id, dedupe) not in seen)
            if not recorded[-1]:
                continue
            seen.add((run_id, dedupe))
        else:
            recorded.append(True)
        last_seq[run_id] += 1
        data = {"name": request.name, "payload": request.payload}
        event = sql.NewEvent(
            last_seq[run_id],
            "signal_received",
            None,
            None,
            data,
            request.actor,
            request.reason,
            dedupe,
            now,
        )
        events.append((run_id, event))
    woken = {run_id for run_id, _ in events}
    if woken:
        runs = {k: (last_seq[k], status[k] not in FINISHED) for k in woken}
        sql.write_signals(events, runs, now)
    return recorded, [k for k in sorted(woken) if status[k] not in FINISHED], None


def record_cancel(run: Run, *, actor: str, reason: str) -> None:
    append(run, "cancel_requested", data={"reason": reason}, actor=actor, reason=reason)
    _wake(run)


def restart_run(old: Run, *, from_cmd: int, actor: str, reason: str) -> Run:
    """A new run of the same workflow and version whose history starts as a copy of ``old``'s
    up to (not including) the scheduling of step ``from_cmd``: replaying it reuses the results
    recorded before that step and schedules the step afresh. ``old`` (locked by the caller) is
    closed as superseded; its business key, waiting steps and timers end with it."""
    cut = (
        HistoryEvent.objects.filter(run=old, kind="step_scheduled", cmd=from_cmd)
        .values_list("seq", flat=True)
        .first()
    )
    if cut is None:
        raise ValueError(f"run {old.pk} has no step {from_cmd}")
    now = clock.now()
    key, old.key = old.key, None
    Run.objects.filter(pk=old.pk).update(key=None)  # the business key moves to the new run
    new = Run.objects.create(
        id=uuid.uuid4(), workflow=old.workflow, version=old.version, key=key, args=old.args,
        status=RunStatus.RUNNING, last_seq=cut - 1, created_at=now, updated_at=now,
        restarted_from=old.pk,
    )  # fmt: skip
    copied = HistoryEvent.objects.filter(run=old, seq__lt=cut).order_by("seq")
    HistoryEvent.objects.bulk_create(
        HistoryEvent(
            run=new,
            seq=e.seq,
            kind=e.kind,
            cmd=e.cmd,
            attempt=e.attempt,
            data=e.data,
            actor=e.actor,
            reason=e.reason,
            dedupe_key=e.dedupe_key,
            created_at=e.created_at,
        )
        for e in copied
    )
    step = {"from_run": str(old.pk), "from_step": from_cmd}
    append(new, "run_restarted", data=step, actor=actor, reason=reason)
    save_run(new, needs_advance=True)
    append(old, "run_superseded", data={"by_run": str(new.pk), "from_step": from_cmd},
           actor=actor, reason=reason)  # fmt: skip
    sql.end_work(old.pk)
    save_run(old, status=RunStatus.SUPERSEDED, finished_at=now, needs_advance=False)
    old.status = RunStatus.SUPERSEDED
    return new


def record_intervention(
    run: Run,
    kind: str,
    actor: str,
    reason: str,
    status: str,
    *,
    outcome: str = "",
    step: int | None = None,
    actor_id: str | None = None,
) -> Intervention:
    now = clock.now()
    done = status != InterventionStatus.PENDING
    return Intervention.objects.create(
        run=run, kind=kind, reason=reason, step=step, requested_by=actor, requested_at=now,
        requested_by_id=actor_id, status=status, decided_at=now if done else None,
        outcome=outcome,
    )  # fmt: skip


def lock_intervention(intervention_id: int) -> Intervention | None:
    return Intervention.objects.select_for_update().filter(pk=intervention_id).first()


def decide_intervention(
    row: Intervention,
    actor: str,
    status: str,
    reason: str,
    outcome: str = "",
    new_run: Any = None,
) -> Intervention:
    row.status, row.decided_by, row.decided_at = status, actor, clock.now()
    row.decision_reason, row.outcome, row.new_run = reason, outcome, new_run
    fields = ["status", "decided_by", "decided_at", "decision_reason", "outcome", "new_run"]
    row.save(update_fields=fields)
    return row


def _wake(run: Run) -> None:
    """Store the appended events and flag the run for an advance (unless it has finished)."""
    save_run(run, needs_advance=run.status not in FINISHED)


# --- steps ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    step: StepTask
    attempt: int


def claim_step(step_id: int, *, lease: timedelta) -> Claim | None:
    """Take the next attempt of a due step. Exactly one caller gets a given attempt."""
    now = clock.now()
    claimable = Q(status=StepStatus.PENDING, next_attempt_at__lte=now)
    claimed = StepTask.objects.filter(Q(pk=step_id) & claimable).update(
        status=StepStatus.RUNNING,
        attempt=F("attempt") + 1,
        lease_expires_at=now + lease,
    )
    if claimed != 1:
        return None
    step = StepTask.objects.get(pk=step_id)
    return Claim(step, step.attempt)


def record_step_started(run: Run, claim: Claim) -> None:
    append(run, "step_started", cmd=claim.step.cmd, attempt=claim.attempt,
           data={"step": claim.step.name})  # fmt: skip
    save_run(run)


def completed_event(claim: Claim, result: Any, *, seq: int) -> sql.NewEvent:
    """The ``step_completed`` event of a claimed attempt, to be appended at ``seq``."""
    data = {"step": claim.step.name, "result": result}
    return sql.NewEvent(
        seq, "step_completed", claim.step.cmd, claim.attempt, data, "", "", None, clock.now()
    )


def as_replayed(event: sql.NewEvent) -> Event:
    return Event(event.seq, event.kind, event.created_at, event.cmd, event.attempt, event.data)


def lock_and_finish_step(claim: Claim, *, result: Any) -> Run | None:
    """Lock the step's run and record the step's result once; None (with nothing recorded) if
    this attempt no longer owns the step. The caller advances the run (or calls ``save_run``)
    in the same transaction."""
    run, owned = sql.lock_and_finish_step(str(claim.step.run_id), claim.step.pk, claim.attempt)
    if not owned:
        return None
    run.last_seq += 1
    _unsaved(run).append(completed_event(claim, result, seq=run.last_seq))
    return run


def fail_step_attempt(
    run: Run, claim: Claim, *, error_type: str, message: str, retry_in: float | None
) -> bool:
    """Record a failed attempt; ``retry_in`` None makes it final. False if no longer owned."""
    now = clock.now()
    final = retry_in is None
    update: dict[str, Any] = {
        "status": StepStatus.FAILED if final else StepStatus.PENDING,
        "lease_expires_at": None,
        "last_error": {"type": error_type, "message": message},
    }
    if not final:
        update["next_attempt_at"] = now + timedelta(seconds=retry_in or 0)
    owned = StepTask.objects.filter(
        pk=claim.step.pk, status=StepStatus.RUNNING, attempt=claim.attempt
    ).update(**update)
    if owned != 1:
        return False
    data: dict[str, Any] = {
        "step": claim.step.name, "error_type": error_type, "message": message, "final": final,
    }  # fmt: skip
    if not final:
        data["retry_at"] = update["next_attempt_at"].isoformat()
    append(run, "step_failed", cmd=claim.step.cmd, attempt=claim.attempt, data=data)
    save_run(run, needs_advance=final and run.status not in FINISHED)
    return True


def release_unowned_step(step: StepTask, message: str, retry_at: datetime) -> None:
    """Give a claimed attempt back without counting it (the step is unknown to this worker)."""
    StepTask.objects.filter(pk=step.pk, status=StepStatus.RUNNING, attempt=step.attempt).update(
        status=StepStatus.PENDING,
        attempt=F("attempt") - 1,
        next_attempt_at=retry_at,
        lease_expires_at=None,
        last_error={"type": "StepNotRegistered", "message": message},
    )


# --- what the sweep looks for --------------------------------------------------------------------


def due_timers(now: datetime, limit: int) -> list[Timer]:
    return list(Timer.objects.filter(fired=False, fire_at__lte=now).order_by("fire_at")[:limit])


def fire_timer(timer_id: int) -> str | None:
    """Fire a due timer once; returns its run id, or None if another sweep fired it or the run
    stopped it meanwhile. The run's lock is taken before the timer's, in the order of every
    writer that stops timers, so the two never wait for each other crosswise."""
    run_id = Timer.objects.filter(pk=timer_id, fired=False).values_list("run_id", flat=True)
    if not run_id:
        return None
    with transaction.atomic():
        run = lock_run(str(run_id[0]))
        assert run is not None
        timer = Timer.objects.select_for_update().filter(pk=timer_id, fired=False).first()
        if timer is None:
            return None
        Timer.objects.filter(pk=timer.pk).update(fired=True)
        append(run, "timer_fired", cmd=timer.cmd, data={"fire_at": timer.fire_at.isoformat()})
        _wake(run)
        return str(run.pk)


def expired_leases(now: datetime, limit: int) -> list[StepTask]:
    return list(
        StepTask.objects.filter(status=StepStatus.RUNNING, lease_expires_at__lt=now).order_by(
            "lease_expires_at"
        )[:limit]
    )


def steps_to_redispatch(now: datetime, stale_after: timedelta, limit: int) -> list[StepTask]:
    """Pending, due steps whose message may have been lost (none sent since they became due)."""
    return list(
        StepTask.objects.filter(status=StepStatus.PENDING, next_attempt_at__lte=now)
        .filter(
            Q(dispatched_at__isnull=True)
            | Q(dispatched_at__lt=F("next_attempt_at"))
            | Q(dispatched_at__lt=now - stale_after)
        )
        .order_by("next_attempt_at")[:limit]
    )


def mark_dispatched(step_ids: list[int], now: datetime) -> None:
    StepTask.objects.filter(pk__in=step_ids).update(dispatched_at=now)


def runs_to_advance(limit: int, *, parked_at: int) -> list[tuple[str, bool, datetime]]:
    """Runs with events the workflow has not seen, and blocked runs (the code may be fixed),
    but not those blocked after ``parked_at`` advances lost in a row: their code killed the
    worker each time, so only a person takes them up (see ``workflows.lost``). Each comes with
    whether it has events it has not seen, and when it last changed."""
    runs = (
        Run.objects.filter(Q(needs_advance=True) | Q(status=RunStatus.BLOCKED))
        .exclude(status__in=FINISHED)
        .exclude(status=RunStatus.BLOCKED, lost_advances__gte=parked_at)
    )
    found = runs.order_by("updated_at").values_list("pk", "needs_advance", "updated_at")[:limit]
    return [(str(pk), needs_advance, updated_at) for pk, needs_advance, updated_at in found]


def record_heartbeat(name: str, at: datetime) -> None:
    """Note that periodic job ``name`` ran at ``at``: one upsert, whoever runs it."""
    Heartbeat.objects.bulk_create(
        [Heartbeat(name=name, at=at)],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["at"],
    )
