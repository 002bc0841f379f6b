"""Shared by the browser tests: Debian's Chromium, driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.workers import Worker, redis_client, worker_broker_url

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def worker(tmp_path):
    """A real Celery worker on an emptied test broker, moving the workflows on."""
    redis_client(worker_broker_url()).flushdb()
    started = Worker(log=tmp_path / "worker.log").start()
    yield started
    started.stop()
