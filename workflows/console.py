"""Reads for the operations console: runs with what they wait for and since when, counted per
status and filtered in SQL, newest change first, a page at a time (keyset). Public through
``workflows.ops``."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet

from workflows import clock, registry
from workflows.models import FINISHED, Run, RunStatus, StepTask
from workflows.waits import Wait, waits_of

# Runs that need a person: stopped on an error the engine cannot get past by itself.
STUCK = [RunStatus.BLOCKED, RunStatus.FAILED]


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list: a status, a workflow and version, only blocked or failed ones, only
    those unchanged for longer than ``waiting_longer``, only these run ids (a search)."""

    status: str = ""
    workflow: str = ""
    version: int | None = None
    stuck: bool = False
    waiting_longer: timedelta | None = None
    run_ids: Collection[str] | None = None


@dataclass(frozen=True)
class RunRow:
    id: str
    workflow: str
    version: int
    status: str
    waiting_for: str
    blocked_reason: str
    since: datetime  # the run's last change: what it waits for, it has waited for since then
    created_at: datetime
    waits: tuple[Wait, ...] = ()  # what ``waiting_for`` says, as data


@dataclass(frozen=True)
class RunWaits:
    """What a run waits for: in the engine's words (``waiting_for``, why it is blocked if it
    is) and as data (``waits``), with what an application needs to word it its own way."""

    id: str
    workflow: str
    status: str
    waiting_for: str
    blocked_reason: str
    waits: tuple[Wait, ...]


def _selected(chosen: RunFilter, *, with_status: bool = True) -> QuerySet[Run]:
    runs = Run.objects.all()
    if chosen.run_ids is not None:
        runs = runs.filter(pk__in=list(chosen.run_ids))
    if chosen.workflow:
        runs = runs.filter(workflow=chosen.workflow)
    if chosen.version is not None:
        runs = runs.filter(version=chosen.version)
    if chosen.stuck:
        runs = runs.filter(status__in=STUCK)
    if chosen.waiting_longer is not None:
        runs = runs.filter(updated_at__lt=clock.now() - chosen.waiting_longer).exclude(
            status__in=[RunStatus.COMPLETED, RunStatus.CANCELLED]
        )
    if with_status and chosen.status:
        runs = runs.filter(status=chosen.status)
    return runs


def runs_list(
    chosen: RunFilter, *, before: tuple[datetime, str] | None = None, size: int = 100
) -> tuple[list[RunRow], tuple[datetime, str] | None]:
    """A page of runs, the most recently changed first, and the key of the next page (or
    None). ``before`` is the key a previous page gave."""
    runs = _selected(chosen)
    if before is not None:
        at, run_id = before
        runs = runs.filter(Q(updated_at__lt=at) | Q(updated_at=at, pk__lt=run_id))
    fields = ["id", "workflow", "version", "status", "waiting_for", "blocked_reason"]
    rows = list(
        runs.order_by("-updated_at", "-pk").values_list(
            *fields, "updated_at", "created_at", "waits"
        )[: size + 1]
    )
    page = [
        RunRow(str(pk), workflow, version, status, waiting, reason, since, created, waits_of(waits))
        for pk, workflow, version, status, waiting, reason, since, created, waits in rows[:size]
    ]
    more = len(rows) > size
    return page, ((page[-1].since, page[-1].id) if more and page else None)


def runs_counts(chosen: RunFilter) -> dict[str, int]:
    """How many runs the filter selects in each status (the status filter left aside), every
    status named, zero included."""
    counted: dict[str, Any] = dict(
        _selected(chosen, with_status=False)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {status.value: counted.get(status.value, 0) for status in RunStatus}


def waiting_for(run_ids: Iterable[str]) -> dict[str, str]:
    """What each of these runs waits for (why it is blocked, if it is), in one query; runs
    that do not exist are left out."""
    rows = Run.objects.filter(pk__in=list(run_ids)).values_list(
        "pk", "status", "waiting_for", "blocked_reason"
    )
    return {
        str(pk): reason if status == "blocked" else waiting for pk, status, waiting, reason in rows
    }


def runs_waits(run_ids: Iterable[str]) -> dict[str, RunWaits]:
    """What each of these runs waits for, in words and as data, in one query; runs that do not
    exist are left out."""
    rows = Run.objects.filter(pk__in=list(run_ids)).values_list(
        "pk", "workflow", "status", "waiting_for", "blocked_reason", "waits"
    )
    return {
        str(pk): RunWaits(str(pk), workflow, status, waiting, reason, waits_of(waits))
        for pk, workflow, status, waiting, reason, waits in rows
    }


# Each distinct (workflow, version) found by one probe of the index run_workflow_version for
# the next pair after the last one found: as many probes as pairs, however many runs.
_WORKFLOW_VERSIONS = """
    WITH RECURSIVE pairs(workflow, version) AS (
        (SELECT workflow, version FROM workflows_run ORDER BY workflow, version LIMIT 1)
        UNION ALL
        SELECT next.workflow, next.version
        FROM pairs p
        CROSS JOIN LATERAL (
            SELECT r.workflow, r.version FROM workflows_run r
            WHERE (r.workflow, r.version) > (p.workflow, p.version)
            ORDER BY r.workflow, r.version
            LIMIT 1
        ) AS next
    )
    SELECT workflow, version FROM pairs ORDER BY workflow, version
"""


def workflow_versions() -> dict[str, list[int]]:
    """The workflows that have runs, each with the versions its runs are pinned to."""
    found: dict[str, list[int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_WORKFLOW_VERSIONS)  # a constant text
        for workflow, version in cursor.fetchall():
            found.setdefault(workflow, []).append(version)
    return found


@dataclass(frozen=True)
class StepRow:
    cmd: int
    name: str
    status: str
    attempt: int
    max_attempts: int
    next_attempt_at: datetime
    last_error: dict[str, Any] | None


def run_steps(run_id: str) -> list[StepRow]:
    """The run's steps in the order it scheduled them: status, attempts, the last error."""
    fields = ["cmd", "name", "status", "attempt", "max_attempts", "next_attempt_at", "last_error"]
    steps = StepTask.objects.filter(run_id=run_id).order_by("cmd").values_list(*fields)
    return [StepRow(*row) for row in steps]


@dataclass(frozen=True)
class VersionLoad:
    """Unfinished runs pinned to one version of a workflow, and whether the code now loaded
    still has that version."""

    workflow: str
    version: int
    unfinished: int
    loaded: bool


def unfinished_by_version() -> list[VersionLoad]:
    rows = (
        Run.objects.exclude(status__in=FINISHED)
        .order_by("workflow", "version")
        .values_list("workflow", "version")
        .annotate(n=Count("pk"))
    )
    return [
        VersionLoad(workflow, version, n, registry.get_workflow(workflow, version) is not None)
        for workflow, version, n in rows
    ]
