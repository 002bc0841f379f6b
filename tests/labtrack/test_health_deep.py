"""/healthz/deep: 200 only when a real worker answers, beat's heartbeat is recent and the sweep
ran recently; otherwise 503 naming each part that failed, with the ages in seconds. Beat's own
container health check (``python -m labtrack.probe beat``) reads the same heartbeat."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.core.cache import cache

from labtrack.beat import HEARTBEAT_KEY, record_heartbeat
from tests.processes import REPO
from tests.workers import Beat, Worker, wait_until, worker_broker_url
from workflows import heartbeat

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def on_the_test_broker(settings):
    """Ping where this session's workers listen, and wait at most a second for an answer."""
    settings.CELERY_BROKER_URL = worker_broker_url()
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 1


@pytest.fixture(autouse=True)
def no_heartbeat_yet():
    """Beat's heartbeat lives in the cache (shared across tests); the sweep's is a row of the
    test's own database."""
    cache.delete(HEARTBEAT_KEY)
    yield
    cache.delete(HEARTBEAT_KEY)


def probe_beat() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labtrack.probe", "beat"],
        cwd=REPO, env=dict(os.environ), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_it_is_503_naming_the_worker_when_no_worker_answers(client):
    record_heartbeat()
    heartbeat.record_sweep()
    response = client.get("/healthz/deep")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["worker"]
    assert body["worker"] == "no answer"
    assert (body["database"], body["broker"], body["beat"], body["sweep"]) == ("ok",) * 4


def test_it_is_503_with_nothing_recorded_and_no_ages_to_give(client):
    body = client.get("/healthz/deep").json()
    assert (body["beat"], body["sweep"]) == ("never seen", "never run")
    assert {"beat", "sweep"} <= set(body["failed"])
    assert body["beat_age_seconds"] is None
    assert body["sweep_lag_seconds"] is None


@pytest.mark.parametrize(("limit", "expected"), [(60, "late"), (600, "ok")])
def test_a_sweep_two_minutes_ago_is_late_only_past_the_limit(client, settings, limit, expected):
    settings.HEALTH_SWEEP_MAX_LAG_SECONDS = limit
    heartbeat.record_sweep(at=time.time() - 120)
    response = client.get("/healthz/deep")
    body = response.json()
    assert response.status_code == 503  # no worker runs in this test
    assert body["sweep"] == expected
    assert ("sweep" in body["failed"]) == (expected == "late")
    assert 120 <= body["sweep_lag_seconds"] < 600


def test_a_beat_heartbeat_five_minutes_old_is_stale(client):
    record_heartbeat(at=time.time() - 300)
    body = client.get("/healthz/deep").json()
    assert body["beat"] == "stale"
    assert "beat" in body["failed"]
    assert body["beat_age_seconds"] >= 300


def test_the_beat_probe_fails_without_a_heartbeat():
    result = probe_beat()
    assert result.returncode == 1, result.stderr[-3000:]
    assert "beat: never seen" in result.stdout


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the worker commits its sweep's row: emptied after
def test_it_is_200_with_a_real_worker_a_real_beat_and_their_sweeps(client, tmp_path):
    worker = Worker(log=tmp_path / "worker.log").start()
    beat = Beat(tmp_path, log=tmp_path / "beat.log").start()
    try:
        # The worker sweeps as it starts and each time beat sends the sweep; beat writes its
        # heartbeat as it ticks. Nothing else writes either, so 200 means both really ran.
        response = wait_until(
            lambda: (r := client.get("/healthz/deep")).status_code == 200 and r, seconds=90
        )
        probe = probe_beat()
    finally:
        beat.stop()
        worker.stop()
    body = response.json()
    assert body["status"] == "ok"
    assert body["failed"] == []
    for part in ["database", "broker", "worker", "beat", "sweep"]:
        assert body[part] == "ok"
    assert 0 <= body["beat_age_seconds"] <= 60
    assert 0 <= body["sweep_lag_seconds"] <= 60
    assert probe.returncode == 0, probe.stdout + probe.stderr[-3000:]
    assert probe.stdout.startswith("beat: ok")
