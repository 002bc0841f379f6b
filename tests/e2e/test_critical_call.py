"""A critical value called in a real browser (Debian's Chromium driven by Playwright) against
the live server, with a real Celery worker moving the workflows on: a technician enters a
critical glucose, finds it on the critical values page, records the call from the keyboard (a
mismatching read-back is refused first, as typed), and the reviewer can then sign the sample,
which is reported."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from samples import services
from tests.cast import PASSWORD
from tests.e2e.pages import sign_in
from tests.processes import REPO
from tests.samples.lab import make_assay

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = REPO / "test-output" / "e2e"


@pytest.fixture
def scene(technician, reviewer):
    """Made before the browser starts (see test_bench_flow)."""
    make_assay(batch_capacity=1)
    services.sample_register(
        user=technician,
        barcode="S-100201",
        specimen_type="serum",
        subject_ref="SUBJ-21",
        collected_at=timezone.now() - timedelta(hours=1),
        assays=["GLU"],
    )
    return technician, reviewer


def test_a_technician_calls_a_critical_value_and_the_sample_becomes_releasable(
    scene, live_server, worker, browser
):
    technician, reviewer = scene
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    bench = sign_in(browser, live_server, technician.username)
    bench.goto(f"{live_server.url}/scan/?barcode=S-100201")
    card = bench.locator("#card-S-100201")
    card.get_by_role("button", name="Receive").click()
    card.locator(".state-badge", has_text="Received").wait_for()
    card.get_by_role("button", name="Add to the open batch").click()
    card.locator(".state-badge", has_text="In batch").wait_for()
    bench.click("text=Batches")
    bench.get_by_role("button", name="Start the run").click()
    bench.get_by_text("The run of batch").wait_for()
    bench.fill("input[name=value]", "1.8")
    bench.fill("input[name=reason]", "analyser in maintenance")
    bench.get_by_role("button", name="Enter the result by hand").click()
    bench.get_by_text("GLU 1.8 mmol/L recorded for S-100201.").wait_for()

    for _ in range(60):  # the worker evaluates the result and opens the notification
        bench.goto(f"{live_server.url}/critical/")
        if bench.locator(".critical-box").count():
            break
        bench.wait_for_timeout(500)
    box = bench.locator(".critical-box").first
    assert "Critical value GLU 1.8 mmol/L (LL)" in box.inner_text()
    assert "Critical value not yet notified" in box.inner_text()
    bench.locator("input[name=called_name]:focus").wait_for()  # keyboard first
    bench.keyboard.type("Dr Ruiz")
    bench.keyboard.press("Tab")
    bench.keyboard.type("ward 5")
    bench.select_option("select[name=outcome]", "confirmed")
    bench.fill("input[name=read_back]", "1.9")
    bench.keyboard.press("Enter")
    bench.get_by_role("alert").get_by_text("is not the result GLU 1.8").wait_for()
    assert bench.input_value("input[name=called_name]") == "Dr Ruiz"  # as typed
    bench.fill("input[name=read_back]", "1.8")
    bench.locator("input[name=read_back]").press("Enter")
    bench.locator(".critical-box").get_by_text("Notification closed").wait_for(timeout=30_000)
    bench.screenshot(path=SCREENSHOTS / "critical-call.png", full_page=True)

    review = sign_in(browser, live_server, reviewer.username)
    review.goto(f"{live_server.url}/review/")
    item = review.locator("#review-S-100201")
    item.wait_for()
    assert "not yet notified" not in item.inner_text()
    review.check("#pick-S-100201")
    review.fill("#sign-form input[name=username]", reviewer.username)
    review.fill("#sign-form input[name=password]", PASSWORD)
    review.get_by_role("button", name="Sign selected: reviewed and released").click()
    item.get_by_text("reviewed and released by Ravi").wait_for()
    for _ in range(60):  # the worker renders the report after the signature
        review.goto(f"{live_server.url}/samples/S-100201/")
        if review.locator("text=Download the PDF").count():
            break
        review.wait_for_timeout(500)
    timeline = review.locator(".timeline").inner_text()
    assert "Call to Dr Ruiz (ward 5) at " in timeline and "confirmed, read back 1.8" in timeline
    assert "Notification closed (notified within the SLA)" in timeline
    assert "Verified and released" in timeline
