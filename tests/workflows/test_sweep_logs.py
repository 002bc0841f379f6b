"""What a real worker logs: a sweep with nothing to do writes nothing at INFO (neither Celery's
"received"/"succeeded" lines nor its own); a sweep that put something right writes one JSON
line saying what, with the task's id and name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from tests.processes import REPO
from tests.workers import Worker, redis_client, wait_until, worker_broker_url
from tests.workflows import durable_defs  # noqa: F401  (registers the workflows here too)
from workflows import tasks
from workflows.api import get_run, start
from workflows.models import Heartbeat, Timer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEFS = "tests.workflows.durable_defs"


def json_lines(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


@pytest.fixture
def worker(tmp_path):
    broker = redis_client(worker_broker_url())
    broker.flushdb()
    log = tmp_path / "worker.log"
    # One process: tasks run one after another, in the order they were sent.
    started = Worker(
        DEFS, concurrency=1, log=log, env={"LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}
    ).start()
    yield log
    started.kill()
    broker.flushdb()


def test_a_routine_sweep_is_silent_and_a_sweep_that_fired_a_timer_says_so(worker):
    log = worker
    # The sweep a worker sends itself at start, then one more, both with nothing to do.
    wait_until(lambda: Heartbeat.objects.filter(name="sweep").exists(), seconds=60)
    routine = tasks.sweep.delay()
    run_id = start("durable.nap", 0.5)
    wait_until(
        lambda: Timer.objects.filter(run_id=run_id, fire_at__lte=timezone.now()).exists(),
        seconds=60,
    )
    working = tasks.sweep.delay()

    def sweep_line() -> dict | None:
        found = [line for line in json_lines(log) if line.get("task_id") == working.id]
        return found[0] if found else None

    line = wait_until(sweep_line, seconds=60)
    assert line["message"] == "workflow sweep: 1 timers fired"
    assert line["level"] == "info" and line["logger"] == "workflows.tasks"
    assert line["task_name"] == "workflows.sweep" and line["timers_fired"] == 1
    assert line["time"].endswith("Z")
    # Written after the routine sweeps had run (one process, in order): had they logged
    # anything, it would be in the file by now.
    text = log.read_text()
    assert routine.id not in text
    assert [entry for entry in json_lines(log) if entry.get("task_name") == "workflows.sweep"] == [
        line
    ]
    wait_until(lambda: get_run(run_id).status == "completed", seconds=60)


def test_beat_sends_the_sweep_without_saying_so_each_time(tmp_path):
    broker = redis_client(worker_broker_url())
    broker.flushdb()
    log = tmp_path / "beat.log"
    env = dict(
        os.environ, CELERY_BROKER_URL=worker_broker_url(), WORKFLOWS_SWEEP_SECONDS="1",
        LOG_FORMAT="json", LOG_LEVEL="INFO",
    )  # fmt: skip
    with log.open("ab") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "labtrack", "beat",
             f"--schedule={tmp_path / 'schedule'}", "--pidfile="],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # No worker listens: the sweeps beat sent wait in the queue, one a second.
        wait_until(lambda: broker.llen("default") >= 3, seconds=60)
    finally:
        beat.terminate()
        beat.wait(timeout=20)
        broker.flushdb()
    lines = json_lines(log)
    assert any(line["logger"] == "celery.beat" for line in lines)  # it does log, as JSON
    assert not [line for line in lines if "workflows.sweep" in json.dumps(line)]
