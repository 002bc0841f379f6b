"""Operator actions behind ``manage.py workflows``: inspect, retry now, check a deploy."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from workflows import clock, executor, registry, store
from workflows.models import FINISHED, Run, RunStatus, StepStatus, StepTask
from workflows.replay import replay


class OperationRefused(Exception):
    """The action does not apply to the run as it is now; nothing changed."""


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


def replay_check(
    limit: int | None = None,
) -> tuple[int, dict[tuple[str, int], list[ReplayProblem]]]:
    """Replay every unfinished run against the code now loaded, recording nothing.

    Returns how many runs were checked and, grouped by (workflow, version), those that would
    block.
    """
    runs = Run.objects.exclude(status__in=FINISHED).order_by("created_at")
    if limit is not None:
        runs = runs[:limit]
    problems: dict[tuple[str, int], list[ReplayProblem]] = defaultdict(list)
    checked = 0
    for run in runs.iterator(chunk_size=200):
        checked += 1
        definition = registry.get_workflow(run.workflow, run.version)
        if definition is None:
            reason = f"version {run.version} of {run.workflow!r} is not registered"
        else:
            outcome = replay(
                definition.fn, run.args, run_id=str(run.pk), events=store.load_events(run)
            )
            reason = outcome.blocked_reason if outcome.status == RunStatus.BLOCKED else ""
        if reason:
            problems[(run.workflow, run.version)].append(
                ReplayProblem(str(run.pk), run.workflow, run.version, reason)
            )
    return checked, dict(problems)
