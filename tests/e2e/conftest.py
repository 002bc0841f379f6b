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
        checked = PolicyCheckedBrowser(launched)
        yield checked
        launched.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    assert checked.violations == [], "Content-Security-Policy violations:\n" + "\n".join(
        checked.violations
    )


class PolicyCheckedBrowser:
    """The browser, except that every context it opens records what the Content-Security-Policy
    refused (Chromium reports each refusal on the console): a test whose pages break the policy
    fails, even when the refused script or style did not matter to what it checked."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self.violations: list[str] = []

    def new_context(self, **options):
        context = self._browser.new_context(**options)
        context.on("console", self._console)
        return context

    def new_page(self, **options):
        return self.new_context(**options).new_page()

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture
def worker(tmp_path):
    """A real Celery worker on an emptied test broker, moving the workflows on."""
    redis_client(worker_broker_url()).flushdb()
    started = Worker(log=tmp_path / "worker.log").start()
    yield started
    started.stop()
