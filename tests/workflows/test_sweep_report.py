"""What a sweep reports having done, which decides whether it logs a line: re-advancing a run
whose advance is overdue is news; advancing one whose advance may still be on its way, or
retrying a blocked run (as every sweep does), is routine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from workflows import executor
from workflows.models import Heartbeat, Run

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.histories_not_replayed("runs are made as rows, without a history"),
]

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def make_run(status: str, *, needs_advance: bool, age: float) -> Run:
    at = NOW - timedelta(seconds=age)
    return Run.objects.create(
        workflow="lab.sample", version=1, status=status, needs_advance=needs_advance,
        created_at=at, updated_at=at,
    )  # fmt: skip


def sweep() -> executor.SweepReport:
    with time_machine.travel(NOW, tick=False):
        return executor.sweep()


def test_runs_waiting_only_briefly_and_blocked_runs_are_routine():
    make_run("waiting", needs_advance=True, age=1)
    make_run("blocked", needs_advance=False, age=3600)
    report = sweep()
    assert (report.runs_nudged, report.blocked_retried, report.runs_advanced) == (1, 1, 0)
    assert not report.did_work
    assert Heartbeat.objects.get(name="sweep").at == NOW


def test_a_run_whose_advance_is_overdue_is_news():
    make_run("waiting", needs_advance=True, age=1)
    make_run("waiting", needs_advance=True, age=120)
    report = sweep()
    assert report.did_work
    assert str(report) == "1 runs re-advanced, 1 runs advanced again early"


def test_a_sweep_with_nothing_to_do_says_so():
    report = sweep()
    assert not report.did_work and str(report) == "nothing to do"
