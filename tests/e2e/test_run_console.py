"""The operations console in a real browser (Debian's Chromium driven by Playwright): a
supervisor finds a blocked run, resumes it with a reason, and watches it complete on its page
while a real Celery worker runs its steps. A screenshot is written to ``test-output/e2e/``."""

from __future__ import annotations

import pytest
from django.db import connection

import tests.workflows.durable_defs  # noqa: F401  (the workflow, known to this process too)
from tests.e2e.pages import WAIT_MS, sign_in
from tests.e2e.test_bench_flow import SCREENSHOTS
from tests.workers import Worker, redis_client, worker_broker_url
from workflows.api import get_run, start
from workflows.models import Run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

DEFS = "tests.workflows.durable_defs"


@pytest.fixture
def blocked_run(tmp_path, reviewer):
    """A run stopped as blocked (its version was missing from an earlier deploy), made before
    the browser starts; no worker runs yet."""
    run_id = start("durable.crash", str(tmp_path))
    redis_client(worker_broker_url()).flushdb()  # its first doorbell: the run is blocked
    Run.objects.filter(pk=run_id).update(
        status="blocked",
        blocked_reason="version 1 of 'durable.crash' is not registered",
        needs_advance=False,
    )
    return run_id


@pytest.fixture
def worker(tmp_path):
    started = Worker(DEFS, log=tmp_path / "worker.log")
    yield started
    started.stop()


def test_a_supervisor_resumes_a_blocked_run_and_sees_it_complete(
    blocked_run, reviewer, live_server, worker, browser
):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = sign_in(browser, live_server, reviewer.username)
    page.click("text=Runs")
    page.check("input[name=stuck]")
    page.get_by_role("button", name="Show").click()
    page.locator(f"#run-{blocked_run} a").click()
    page.get_by_text("Status: blocked").wait_for()
    page.select_option("select[name=kind]", "resume")
    page.fill("input[name=reason]", "version 1 deployed again")
    page.get_by_role("button", name="Ask").click()
    page.get_by_text("Resume: resumed against the code now loaded").wait_for()

    worker.start()  # the fix is live: a worker takes the steps the resume scheduled
    page.get_by_text("Status: completed").wait_for(timeout=WAIT_MS)  # the page updates itself
    page.screenshot(path=SCREENSHOTS / "run-resumed.png", full_page=True)

    # Read with the browser running, the ORM opens a connection of its own: closed right away,
    # so that none outlives the test.
    try:
        run = get_run(blocked_run)
    finally:
        connection.close()
    assert run.status == "completed"
    assert run.result == ["BEFORE", "slow done", "AFTER"]
    resumed = next(e for e in run.history if e.kind == "resume_requested")
    assert (resumed.actor, resumed.reason) == (reviewer.username, "version 1 deployed again")
    timeline = page.locator(".timeline").inner_text()
    assert "resume requested" in timeline and "run completed" in timeline
    page.close()  # no request of this page outlives the test
