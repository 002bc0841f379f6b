"""People acting on runs: retry now, resume a blocked run, cancel, restart from a step. Each
needs a reason and is recorded in the run's own history with its actor and reason; a
cancellation and a restart take effect only once a second person approves them (four eyes).

A restart makes a new run whose history starts as a copy of the old one's up to the chosen
step: replaying it reuses every result recorded before that step (those steps do not run
again) and schedules the chosen step afresh. The old run is closed as superseded; the
``run_restarted`` signal tells the applications that hold its id to follow the new one.

These are the rules for people, whichever door they come through (the console, the command
line); ``workflows.ops`` exports them. ``workflows.api.cancel`` stays the primitive for code
that owns a run.

Four eyes compare the people's account ids (``actor_id``), not their names: an account renamed
between asking and deciding is still the same person. Only when a side has no id (a request
recorded before ids were kept, or code acting without an account) are names compared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.dispatch import Signal

from workflows import executor, lost, store
from workflows.dispatch import backend
from workflows.errors import InterventionRefused
from workflows.models import (
    FINISHED,
    Intervention,
    InterventionKind,
    InterventionStatus,
    Run,
    RunStatus,
)
from workflows.operations import retry_now

FOUR_EYES = {InterventionKind.CANCEL, InterventionKind.RESTART}

# Sent (``old_run_id``, ``new_run_id``, strings) inside the transaction of a restart.
run_restarted = Signal()


@dataclass(frozen=True)
class InterventionInfo:
    id: int
    run_id: str
    kind: str
    reason: str
    requested_by: str
    requested_at: datetime
    status: str
    decided_by: str
    decided_at: datetime | None
    decision_reason: str
    outcome: str
    step: int | None
    new_run: str


def _info(row: Intervention) -> InterventionInfo:
    return InterventionInfo(
        row.pk, str(row.run_id), row.kind, row.reason, row.requested_by, row.requested_at,
        row.status, row.decided_by, row.decided_at, row.decision_reason, row.outcome, row.step,
        str(row.new_run or ""),
    )  # fmt: skip


def _locked(run_id: str) -> Run:
    run = store.lock_run(run_id)
    if run is None:
        raise InterventionRefused(f"There is no workflow run {run_id}.")
    return run


def intervene(
    run_id: str,
    kind: str,
    *,
    actor: str,
    reason: str,
    step: int | None = None,
    actor_id: int | str | None = None,
) -> InterventionInfo:
    """Retry or resume at once; ask for a cancellation, or a restart from step ``step`` (a
    step's number in the run), which wait for a second person. ``actor`` is the person's name
    as the history shows it, ``actor_id`` their account's id, which four eyes compare."""
    reason = (reason or "").strip()
    if kind not in InterventionKind.values:
        raise InterventionRefused(f"There is no intervention {kind!r}.")
    if not reason:
        raise InterventionRefused("An intervention needs a reason.")
    if not actor:
        raise InterventionRefused("An intervention needs the name of the person making it.")
    with transaction.atomic():
        run = _locked(run_id)
        if not _applies(run, kind):
            raise InterventionRefused(f"The run has {run.status}: there is nothing to {kind}.")
        if kind == InterventionKind.RESUME and run.status != RunStatus.BLOCKED:
            raise InterventionRefused(
                f"Only a blocked run can be resumed; this one is {run.status}."
            )
        if kind == InterventionKind.RESTART:
            _check_step(run, step)
        if kind in FOUR_EYES:
            if run.interventions.filter(kind=kind, status=InterventionStatus.PENDING).exists():
                raise InterventionRefused(f"A {kind} of this run already waits for approval.")
            row = store.record_intervention(
                run, kind, actor, reason, InterventionStatus.PENDING, step=step,
                actor_id=_id(actor_id),
            )  # fmt: skip
            store.append(run, "intervention_requested", data={"intervention": row.pk,
                         "action": kind, "step": step}, actor=actor, reason=reason)  # fmt: skip
            store.save_run(run)
            return _info(row)
        outcome = (
            _retry(run, actor, reason)
            if kind == InterventionKind.RETRY
            else _resume(run, actor, reason)
        )
        row = store.record_intervention(
            run, kind, actor, reason, InterventionStatus.DONE, outcome=outcome,
            actor_id=_id(actor_id),
        )  # fmt: skip
    return _info(row)


def _id(actor_id: int | str | None) -> str | None:
    return None if actor_id is None else str(actor_id)


def _same_person(row: Intervention, actor: str, actor_id: int | str | None) -> bool:
    """Whether the decider asked for the intervention: by account id when both sides have one,
    by name otherwise (names change; ids do not)."""
    if row.requested_by_id is not None and actor_id is not None:
        return row.requested_by_id == _id(actor_id)
    return actor == row.requested_by


def _applies(run: Run, kind: str) -> bool:
    """A failed run can be restarted from a step; nothing else applies to a finished run."""
    restartable = kind == InterventionKind.RESTART and run.status == RunStatus.FAILED
    return run.status not in FINISHED or restartable


def _check_step(run: Run, step: int | None) -> None:
    if step is None:
        raise InterventionRefused("Choose the step to restart from.")
    if not run.events.filter(kind="step_scheduled", cmd=step).exists():
        raise InterventionRefused(f"The run has no step {step} to restart from.")


def _retry(run: Run, actor: str, reason: str) -> str:
    return retry_now(str(run.pk), actor=actor, reason=reason)


def _resume(run: Run, actor: str, reason: str) -> str:
    store.append(run, "resume_requested", data={"blocked": run.blocked_reason}, actor=actor,
                 reason=reason)  # fmt: skip
    if lost.parked(run):  # its code killed the worker advancing it: a worker tries again
        return lost.take_up(run)
    store.save_run(run)
    executor.advance_locked(run)
    status, blocked_reason = Run.objects.values_list("status", "blocked_reason").get(pk=run.pk)
    if status == RunStatus.BLOCKED:
        return f"still blocked: {blocked_reason}"
    return f"resumed against the code now loaded; the run is {status}"


def decide(
    intervention_id: int,
    *,
    actor: str,
    approve: bool,
    reason: str = "",
    actor_id: int | str | None = None,
) -> InterventionInfo:
    """A second person approves (it takes effect now) or refuses (with a reason) a waiting
    intervention. The person who asked for it may not decide it, under whatever name: with
    ``actor_id`` (their account's id) they are recognised by it."""
    reason = (reason or "").strip()
    with transaction.atomic():
        row = store.lock_intervention(intervention_id)
        if row is None:
            raise InterventionRefused(f"There is no intervention {intervention_id}.")
        if row.status != InterventionStatus.PENDING:
            raise InterventionRefused(f"Intervention {intervention_id} is already {row.status}.")
        if _same_person(row, actor, actor_id):
            raise InterventionRefused(
                "A second person must decide: you asked for this intervention yourself."
            )
        if not approve and not reason:
            raise InterventionRefused("Say why you refuse this intervention.")
        run = _locked(str(row.run_id))
        if not approve:
            store.append(run, "intervention_refused", data={"intervention": row.pk,
                         "action": row.kind, "step": row.step}, actor=actor,
                         reason=reason)  # fmt: skip
            store.save_run(run)
            return _info(store.decide_intervention(row, actor, InterventionStatus.REFUSED, reason))
        if not _applies(run, row.kind):
            outcome = f"not carried out: the run had already {run.status}"
            return _info(
                store.decide_intervention(row, actor, InterventionStatus.REFUSED, reason, outcome)
            )
        store.append(run, "intervention_approved", data={"intervention": row.pk,
                     "action": row.kind, "step": row.step, "requested_by": row.requested_by},
                     actor=actor, reason=reason or row.reason)  # fmt: skip
        if row.kind == InterventionKind.RESTART:
            new = store.restart_run(
                run, from_cmd=row.step or 0, actor=row.requested_by, reason=row.reason
            )
            run_restarted.send(sender=Intervention, old_run_id=str(run.pk), new_run_id=str(new.pk))
            woken = str(new.pk)
            outcome = f"restarted from step {row.step} as run {new.pk}"
            done = store.decide_intervention(
                row, actor, InterventionStatus.DONE, reason, outcome, new_run=new.pk
            )
        else:
            store.record_cancel(run, actor=row.requested_by, reason=row.reason)
            woken = str(run.pk)
            done = store.decide_intervention(
                row, actor, InterventionStatus.DONE, reason, "cancellation delivered to the run"
            )
    backend().send_advance(woken)
    return _info(done)


def interventions_of(run_id: str) -> list[InterventionInfo]:
    """A run's interventions, newest first."""
    rows = Intervention.objects.filter(run_id=run_id).order_by("-requested_at", "-pk")
    return [_info(row) for row in rows]


def interventions_pending(run_id: str | None = None) -> list[InterventionInfo]:
    """Interventions waiting for a second person (of one run, or of all), oldest first."""
    rows = Intervention.objects.filter(status=InterventionStatus.PENDING)
    if run_id is not None:
        rows = rows.filter(run_id=run_id)
    return [_info(row) for row in rows.order_by("requested_at", "pk")]
