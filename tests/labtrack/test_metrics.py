"""GET /metrics: Prometheus text read from the tables, for a scraper holding METRICS_TOKEN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from samples.models import ChainCheck, Instrument, InstrumentMessage, UnmatchedResult
from workflows.models import Heartbeat, Run, StepTask

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.histories_not_replayed("runs and steps are made as rows, without a history"),
]

TOKEN = "scraper-token-0123456789"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def metrics_enabled(settings):
    settings.METRICS_TOKEN = TOKEN


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def make_run(workflow: str, status: str, *, needs_advance: bool = False, age: float = 0) -> Run:
    at = NOW - timedelta(seconds=age)
    return Run.objects.create(
        workflow=workflow, version=1, status=status, needs_advance=needs_advance,
        created_at=at, updated_at=at,
    )  # fmt: skip


def make_step(run: Run, cmd: int, status: str, *, due_ago: float, attempt: int = 0, lease=None):
    return StepTask.objects.create(
        run=run, cmd=cmd, name="lab.step", status=status, attempt=attempt, max_attempts=3,
        next_attempt_at=NOW - timedelta(seconds=due_ago), lease_expires_at=lease,
    )  # fmt: skip


def make_unmatched(message: InstrumentMessage, *, resolved: bool, age: float) -> None:
    UnmatchedResult.objects.create(
        message=message, instrument=message.instrument, barcode="S-000691", assay_code="GLU",
        value="4.8", why="unknown barcode", received_at=NOW - timedelta(seconds=age),
        resolved_at=NOW if resolved else None, resolution="discarded" if resolved else "",
    )  # fmt: skip


@pytest.fixture
def data(django_user_model):
    blocked_a = make_run("lab.sample", "blocked")
    make_run("lab.sample", "blocked", age=5)
    make_run("lab.sample", "waiting", needs_advance=True, age=40)
    running = make_run("lab.batch", "running")
    for _ in range(3):
        make_run("lab.sample", "completed")
    make_step(running, 1, "pending", due_ago=90)  # due for a minute and a half
    make_step(running, 2, "pending", due_ago=10, attempt=1)  # failed once, due again
    make_step(running, 3, "pending", due_ago=-60)  # not due yet
    make_step(blocked_a, 1, "running", due_ago=300, attempt=1, lease=NOW - timedelta(seconds=1))
    Heartbeat.objects.create(name="sweep", at=NOW - timedelta(seconds=12))
    ChainCheck.objects.create(
        checked_at=NOW - timedelta(hours=6), trigger="nightly", events=10, chains=2, intact=True
    )
    ChainCheck.objects.create(
        checked_at=NOW - timedelta(hours=1), trigger="page", events=10, chains=2, intact=False
    )
    client_user = django_user_model.objects.create_user(username="analyser")
    instrument = Instrument.objects.create(
        name="Analyser 1", model="A1", serial="SN-1", service_user=client_user
    )
    message = InstrumentMessage.objects.create(
        client=client_user, instrument=instrument, kind="results", body="{}", received_at=NOW
    )
    make_unmatched(message, resolved=False, age=600)
    make_unmatched(message, resolved=False, age=60)
    make_unmatched(message, resolved=True, age=6000)


def test_without_a_token_setting_there_is_no_metrics_endpoint(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-0123456789", f"Basic {TOKEN}"])
def test_a_scraper_without_the_token_is_refused(client, metrics_enabled, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"labtrack_" not in response.content


def test_the_metrics_match_the_tables(client, metrics_enabled, data):
    with time_machine.travel(NOW, tick=False):
        found = scrape(client)
    runs = {
        (labels["workflow"], labels["status"]): value
        for (name, pairs), value in found.items()
        if name == "labtrack_workflow_runs"
        for labels in [dict(pairs)]
    }
    # Finished runs (three completed) are not counted at scrape time.
    assert runs == {
        ("lab.sample", "blocked"): 2,
        ("lab.sample", "waiting"): 1,
        ("lab.batch", "running"): 1,
    }
    expected = {
        "labtrack_workflow_blocked_runs": 2,
        "labtrack_workflow_ready_steps": 2,
        "labtrack_workflow_oldest_ready_step_seconds": 90,
        "labtrack_workflow_retrying_steps": 1,
        "labtrack_workflow_running_steps": 1,
        "labtrack_workflow_expired_leases": 1,
        "labtrack_workflow_oldest_unadvanced_run_seconds": 40,
        "labtrack_workflow_sweep_lag_seconds": 12,
        "labtrack_audit_chain_last_check_timestamp_seconds": (NOW - timedelta(hours=1)).timestamp(),
        "labtrack_audit_chain_intact": 0,
        "labtrack_inbox_unmatched_results": 2,
        "labtrack_inbox_oldest_unmatched_seconds": 600,
    }
    assert {name: found[(name, ())] for name in expected} == expected


def test_an_empty_installation_reports_zeros_and_a_sweep_that_never_ran(client, metrics_enabled):
    found = scrape(client)
    assert found[("labtrack_workflow_blocked_runs", ())] == 0
    assert found[("labtrack_inbox_unmatched_results", ())] == 0
    assert found[("labtrack_workflow_sweep_lag_seconds", ())] == float("inf")
    assert ("labtrack_audit_chain_intact", ()) not in found  # no check yet: no sample, not "0"


def test_a_sweep_records_when_it_ran(client, metrics_enabled):
    from workflows import executor

    with time_machine.travel(NOW, tick=False):
        executor.sweep()
    with time_machine.travel(NOW + timedelta(seconds=7), tick=False):
        assert scrape(client)[("labtrack_workflow_sweep_lag_seconds", ())] == 7
