"""Operator actions behind ``manage.py workflows``: inspect, retry now, check a deploy (the
deploy check is public through ``workflows.ops``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from workflows import clock, executor, lost, registry, store
from workflows.errors import OperationRefused
from workflows.models import FINISHED, Run, RunStatus, StepStatus, StepTask
from workflows.replay import replay


def retry_now(run_id: str, *, actor: str, reason: str = "operator asked to retry now") -> str:
    """Make a run's waiting retries due now and advance it; says what it did."""
    with transaction.atomic():
        run = store.lock_run(run_id)
        if run is None:
            raise OperationRefused(f"no workflow run {run_id!r}")
        if run.status in FINISHED:
            raise OperationRefused(f"run {run_id} has {run.status}: there is nothing to retry")
        now = clock.now()
        pending = list(StepTask.objects.filter(run=run, status=StepStatus.PENDING))
        StepTask.objects.filter(pk__in=[s.pk for s in pending]).update(
            next_attempt_at=now, dispatched_at=now
        )
        store.append(run, "retry_requested", data={"steps": [s.name for s in pending]},
                     actor=actor, reason=reason)  # fmt: skip
        store.save_run(run)
        for step in pending:
            executor.send_step(step)
        if lost.parked(run):  # its code killed the worker advancing it: a worker tries again
            return lost.take_up(run)
        if run.status == RunStatus.BLOCKED or not pending:
            executor.advance_locked(run)
    if pending:
        return f"retrying {len(pending)} step(s) now: " + ", ".join(s.name for s in pending)
    return "advanced the run against the code now loaded"


@dataclass(frozen=True)
class ReplayProblem:
    run_id: str
    workflow: str
    version: int
    reason: str
    blocks: bool = True  # False: the run goes on, but replaying it decides differently


TERMINAL_KINDS = ("run_completed", "run_failed", "run_cancelled")


def replay_check(
    limit: int | None = None, *, finished: bool = False, strict: bool = False
) -> tuple[int, dict[tuple[str, int], list[ReplayProblem]]]:
    """Replay runs from their recorded histories against the code now loaded, from the top
    in a fresh session, recording nothing.

    By default every unfinished run, reporting those that would block. ``finished`` takes
    finished runs too (a lab replaying last month's histories before a deploy). ``strict``
    also reports a replay that does not reach the recorded decisions exactly: a deadline the
    code now works out differently, a decision the history lacks, another ending or status.
    Returns how many runs were checked and the problems grouped by (workflow, version).
    """
    runs = Run.objects.all() if finished else Run.objects.exclude(status__in=FINISHED)
    runs = runs.order_by("created_at", "id")
    if limit is not None:
        runs = runs[:limit]
    problems: dict[tuple[str, int], list[ReplayProblem]] = defaultdict(list)
    checked = 0
    for run in runs.iterator(chunk_size=200):
        checked += 1
        problem = replay_problem(run, strict=strict)
        if problem is not None:
            problems[(run.workflow, run.version)].append(problem)
    return checked, dict(problems)


def replay_problem(run: Run, *, strict: bool = True) -> ReplayProblem | None:
    """What goes wrong when ``run``'s whole history is replayed against the code now loaded,
    or None."""

    def problem(reason: str, *, blocks: bool = False) -> ReplayProblem:
        return ReplayProblem(str(run.pk), run.workflow, run.version, reason, blocks)

    definition = registry.get_workflow(run.workflow, run.version)
    if definition is None:
        return problem(f"version {run.version} of {run.workflow!r} is not registered", blocks=True)
    events = store.load_events(run)
    if not events or events[0].kind != "run_started":
        return problem("the history does not start with run_started", blocks=True)
    fresh = Run.objects.filter(pk=run.pk).first()
    if fresh is None or fresh.last_seq != run.last_seq:  # a worker moved it on meanwhile
        return replay_problem(fresh, strict=strict) if fresh is not None else None
    run = fresh
    outcome = replay(definition.fn, run.args, run_id=str(run.pk), events=events)
    if outcome.status == RunStatus.BLOCKED:
        return problem(outcome.blocked_reason, blocks=True)
    if not strict:
        return None
    if outcome.drift:
        return problem("; ".join(outcome.drift))
    if run.needs_advance or run.status in (RunStatus.BLOCKED, RunStatus.SUPERSEDED):
        return None  # events the workflow has not taken in yet: new decisions are expected
    decided = [(e.kind, e.data) for e in outcome.new_events]
    if run.status in FINISHED:
        ending = [(e.kind, e.data) for e in events if e.kind in TERMINAL_KINDS][-1:]
        if decided != ending:
            return problem(
                f"the history ends with {_describe(ending)}, but replaying it "
                f"decides {_describe(decided)}"
            )
        return None
    if decided:
        where = [e.kind + (f" at position {e.cmd}" if e.cmd else "") for e in outcome.new_events]
        return problem(f"replaying the history decides again: {', '.join(where)}")
    if outcome.status != run.status:
        return problem(
            f"the run is {run.status}, but its replayed history leaves it {outcome.status}"
        )
    return None


def _describe(decided: list[tuple[str, dict[str, object]]]) -> str:
    return ", ".join(f"{kind} {data}" for kind, data in decided) or "nothing"
