"""A sample's whole life in a real browser (Debian's Chromium driven by Playwright), against the
live server, with a real Celery worker moving the workflows on.

A technician scans a sample in, puts it in a batch, starts the run and enters the result; a
reviewer signs it off and downloads the report. Screenshots of the scan station and of the
sample's timeline are written to ``test-output/e2e/``; then the reviewer opens the dashboard,
whose turnaround figures (fetched beside the page) count the sample.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from samples import services
from tests.cast import PASSWORD
from tests.e2e.pages import sign_in
from tests.processes import REPO
from tests.samples.lab import make_assay

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = REPO / "test-output" / "e2e"


@pytest.fixture
def scene(technician, reviewer):
    """The data, made before the browser starts: once Playwright runs its event loop in this
    thread, a database call here would open a second connection that outlives the test."""
    make_assay(batch_capacity=1)  # a batch of one closes as soon as the sample joins
    services.sample_register(
        user=technician,
        barcode="S-100001",
        specimen_type="serum",
        subject_ref="SUBJ-9",
        collected_at=timezone.now() - timedelta(hours=1),
        assays=["GLU"],
    )
    return technician, reviewer


def test_a_sample_from_reception_to_a_signed_report(scene, live_server, worker, browser):
    technician, reviewer = scene
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    bench = sign_in(browser, live_server, technician.username)
    bench.click("text=Scan")
    bench.locator("#barcode:focus").wait_for()  # focused on arrival: no click needed
    bench.keyboard.type("s-100001")  # the scan field has the focus; a scanner types, then Enter
    bench.keyboard.press("Enter")
    card = bench.locator("#card-S-100001")
    card.get_by_role("button", name="Receive").click()
    card.locator(".state-badge", has_text="Received").wait_for()
    bench.screenshot(path=SCREENSHOTS / "scan-station.png", full_page=True)
    card.get_by_role("button", name="Add to the open batch").click()
    card.locator(".state-badge", has_text="In batch").wait_for()

    bench.click("text=Batches")
    bench.get_by_role("button", name="Start the run").click()
    bench.get_by_text("The run of batch").wait_for()
    bench.fill("input[name=value]", "7.2")
    bench.fill("input[name=reason]", "analyser in maintenance")
    bench.get_by_role("button", name="Enter the result by hand").click()
    bench.get_by_text("GLU 7.2 mmol/L recorded for S-100001.").wait_for()

    review = sign_in(browser, live_server, reviewer.username)
    review.goto(f"{live_server.url}/review/")
    review.locator("#review-S-100001").wait_for()  # resulted once the worker evaluated it
    review.check("#pick-S-100001")
    review.fill("#sign-form input[name=username]", reviewer.username)
    review.fill("#sign-form input[name=password]", PASSWORD)
    review.get_by_role("button", name="Sign selected: reviewed and released").click()
    review.locator("#review-S-100001").get_by_text("reviewed and released by Ravi").wait_for()

    review.goto(f"{live_server.url}/samples/S-100001/")
    for _ in range(60):  # the report is written by the worker after the signature
        if review.locator("text=Download the PDF").count():
            break
        review.wait_for_timeout(500)
        review.reload()
    with review.expect_download() as download:
        review.click("text=Download the PDF")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    timeline = review.locator(".timeline")
    assert "Verified and released" in timeline.inner_text()
    review.screenshot(path=SCREENSHOTS / "sample-timeline.png", full_page=True)
    assert (SCREENSHOTS / "scan-station.png").stat().st_size > 0

    # The dashboard: the figures of now at once, the period's turnaround fetched beside them.
    review.click("text=Dashboard")
    review.locator("#states").get_by_role("link", name="Reported").wait_for()
    turnaround = review.locator("#turnaround tbody tr")
    turnaround.first.wait_for()
    assert turnaround.first.locator("td").nth(0).inner_text() == "GLU"
    assert turnaround.first.locator("td").nth(1).inner_text() == "1"
    assert review.locator("#period .loading").count() == 0
    review.screenshot(path=SCREENSHOTS / "dashboard.png", full_page=True)
