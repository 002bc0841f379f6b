"""The tests that define "durable", with real worker processes, real PostgreSQL and Redis:
a worker SIGKILLed mid-step, every Redis message lost, 100 signals at once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from labtrack import embedded
from tests.processes import REPO
from tests.workers import Worker, redis_client, wait_until, worker_broker_url
from tests.workflows import durable_defs  # noqa: F401  (registers the workflows here too)
from workflows import executor
from workflows.api import get_run, signal, start
from workflows.models import HistoryEvent, Run
from workflows.ops import intervene

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEFS = "tests.workflows.durable_defs"


@pytest.fixture
def broker():
    """The Redis db this session's Celery and its test workers share, emptied for the test."""
    client = redis_client(worker_broker_url())
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start_worker(**options) -> Worker:
        worker = Worker(DEFS, log=tmp_path / "worker.log", **options).start()
        started.append(worker)
        return worker

    yield start_worker
    for worker in started:
        worker.kill()


def status(run_id):
    return get_run(run_id).status


def journal(folder: Path) -> list[str]:
    path = folder / "journal.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_a_workflow_runs_on_real_workers(tmp_path, workers, broker):
    workers()
    run_id = start("durable.crash", str(tmp_path))
    wait_until(lambda: status(run_id) == "completed", seconds=60)
    assert get_run(run_id).result == ["BEFORE", "slow done", "AFTER"]


def test_a_worker_killed_mid_step_loses_nothing_and_records_the_result_once(
    tmp_path, workers, broker
):
    first = workers()
    run_id = start("durable.crash", str(tmp_path))
    wait_until(lambda: "start" in journal(tmp_path), seconds=60)
    first.kill()  # SIGKILL in the middle of durable.slow
    assert journal(tmp_path) == ["quick before", "start"]

    workers()  # a new worker; its start-up sweep and this loop's sweeps (as beat) recover
    wait_until(lambda: status(run_id) == "completed", seconds=90, every=0.5, also=executor.sweep)

    run = get_run(run_id)
    assert run.result == ["BEFORE", "slow done", "AFTER"]
    assert journal(tmp_path).count("start") == 2  # the step ran twice ...
    completed = [e for e in run.history if e.kind == "step_completed" and e.cmd == 2]
    assert len(completed) == 1  # ... and its result was recorded once
    lost = [e for e in run.history if e.kind == "step_failed" and e.cmd == 2]
    assert [(e.attempt, e.data["error_type"]) for e in lost] == [(1, "StepTimeout")]
    assert completed[0].attempt == 2
    assert journal(tmp_path).count("quick before") == 1  # finished steps never run again


def test_losing_every_redis_message_mid_run_loses_nothing(tmp_path, workers, broker):
    worker = workers()
    run_id = start("durable.pause", str(tmp_path))
    wait_until(lambda: status(run_id) == "waiting", seconds=60)
    worker.stop()
    signal(run_id, "go", "payload")  # its doorbell message waits in Redis ...
    assert broker.llen("default") >= 1
    broker.flushdb()  # ... and is lost
    workers()
    wait_until(lambda: status(run_id) == "completed", seconds=60, every=0.5, also=executor.sweep)
    assert get_run(run_id).result == ["payload", "TWO"]
    assert journal(tmp_path) == ["quick one", "quick two"]


def test_a_hundred_concurrent_signals_are_all_recorded_in_one_order(workers, broker):
    workers(concurrency=2)
    run_id = start("durable.collect", 100)
    wait_until(lambda: status(run_id) == "waiting", seconds=60)
    barrier = threading.Barrier(20)
    errors: list[BaseException] = []

    def send(batch):
        try:
            barrier.wait()
            for i in batch:
                signal(run_id, "sample", i)
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(range(t, 100, 20),)) for t in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    wait_until(lambda: status(run_id) == "completed", seconds=60, every=0.5, also=executor.sweep)

    result = get_run(run_id).result
    assert sorted(result) == list(range(100))  # every signal, once
    received = list(
        HistoryEvent.objects.filter(run_id=run_id, kind="signal_received")
        .order_by("seq")
        .values_list("data__payload", flat=True)
    )
    assert result == received  # consumed in the order they were recorded
    seqs = list(HistoryEvent.objects.filter(run_id=run_id).values_list("seq", flat=True))
    assert sorted(seqs) == list(range(1, len(seqs) + 1))  # one gap-free order


def test_a_step_past_its_timeout_fails_that_attempt_and_is_retried(tmp_path, workers, broker):
    workers()
    run_id = start("durable.timeout", str(tmp_path))
    wait_until(lambda: status(run_id) == "completed", seconds=60, every=0.5, also=executor.sweep)
    run = get_run(run_id)
    assert run.result == "answered"
    failed = [e for e in run.history if e.kind == "step_failed"]
    assert [(e.attempt, e.data["error_type"]) for e in failed] == [(1, "StepTimeout")]
    assert journal(tmp_path) == ["stuck attempt", "stuck attempt"]


def test_a_step_that_swallows_its_time_limit_still_fails_that_attempt(tmp_path, workers, broker):
    workers()
    run_id = start("durable.swallowed_timeout", str(tmp_path))
    wait_until(lambda: status(run_id) == "completed", seconds=60, every=0.5, also=executor.sweep)
    run = get_run(run_id)
    assert run.result == "answered"  # not "swallowed", which came back past the time limit
    failed = [e for e in run.history if e.kind == "step_failed"]
    assert [(e.attempt, e.data["error_type"]) for e in failed] == [(1, "StepTimeout")]
    assert failed[0].data["message"].startswith("attempt 1 ran past its 1s timeout (")
    assert journal(tmp_path) == ["swallows attempt", "swallows attempt"]


def test_workflow_code_that_kills_its_worker_is_parked_blocked_after_three_losses(
    tmp_path, workers, broker
):
    worker = workers(concurrency=1)  # one advance at a time, so each entry is one loss
    run_id = start("durable.dies", str(tmp_path), os.getpid())
    wait_until(lambda: status(run_id) == "blocked", seconds=60)
    assert get_run(run_id).waiting_for == (
        "the workflow's code was lost 3 times while advancing (its worker process died): "
        "fix the code or the worker, then resume"
    )
    assert journal(tmp_path).count("entered") == 3
    # Parked: its message is not redelivered and the sweep (as beat runs it) leaves it alone.
    for _ in range(6):
        executor.sweep()
        time.sleep(0.5)
    assert journal(tmp_path).count("entered") == 3
    assert status(run_id) == "blocked"

    assert worker.process.poll() is None  # the worker lives on and serves other runs
    other = start("durable.chain", 3)
    wait_until(lambda: status(other) == "completed", seconds=60)

    (tmp_path / "fixed").touch()  # the code is fixed; a person resumes the run
    intervene(run_id, "resume", actor="sam", reason="the workflow no longer exits")
    wait_until(lambda: status(run_id) == "completed", seconds=60, every=0.5, also=executor.sweep)
    assert get_run(run_id).result == "FIXED"
    assert Run.objects.get(pk=run_id).lost_advances == 0


@pytest.fixture
def private_postgres():
    """A PostgreSQL of this test's own, so restarting it disturbs nobody."""
    folder = Path(tempfile.mkdtemp(prefix="lt-pg-"))
    embedded.start_postgres(folder)
    url = embedded.database_url(folder)
    env = dict(
        os.environ, DATABASE_URL=url, DATABASE_OWNER_URL=embedded.owner_database_url(folder),
        CELERY_BROKER_URL=worker_broker_url(),
    )  # fmt: skip
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=REPO, env=env,
                   check=True, capture_output=True)  # fmt: skip
    yield folder, env
    embedded.stop_postgres(folder)
    shutil.rmtree(folder, ignore_errors=True)


def test_restarting_postgresql_mid_step_loses_and_duplicates_nothing(
    tmp_path, private_postgres, broker
):
    folder, env = private_postgres
    worker = Worker(DEFS, log=tmp_path / "worker.log", database_url=env["DATABASE_URL"]).start()
    try:
        scenario = subprocess.run(
            [sys.executable, "-m", "tests.workflows.restart_scenario", str(folder), str(tmp_path)],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
    finally:
        worker.kill()
    assert scenario.returncode == 0, scenario.stderr[-3000:]
    summary = json.loads(scenario.stdout.strip().splitlines()[-1])
    assert summary["result"] == ["BEFORE", "slow done", "AFTER"]
    seqs = [seq for seq, _, _ in summary["events"]]
    assert sorted(seqs) == list(range(1, len(seqs) + 1))  # nothing lost, no gaps
    completed = Counter(cmd for _, kind, cmd in summary["events"] if kind == "step_completed")
    assert completed == {1: 1, 2: 1, 3: 1}  # each result recorded exactly once
    # The restart did land mid-step: that attempt's result could not be recorded, so it ran again.
    assert journal(tmp_path).count("start") == 2
    assert journal(tmp_path).count("quick before") == 1
