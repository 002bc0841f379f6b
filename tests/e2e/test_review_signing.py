"""The review page in a real browser (Debian's Chromium driven by Playwright) at a bench tablet's
size: the reviewer scrolls down the queue, ticks three samples, types the password once, and the
page stays where it was, the three cards replaced by their signatures. "Select all shown"
ticks every sample. A screenshot of the page is written to ``test-output/e2e/``."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from samples import services
from samples.models import Batch, BatchStatus
from tests.cast import PASSWORD
from tests.e2e.pages import sign_in
from tests.e2e.test_bench_flow import SCREENSHOTS
from tests.samples.lab import make_assay
from workflows.ops import run_inline

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

QUEUE = [f"S-2000{n:02d}" for n in range(1, 21)]
TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def queue(technician, reviewer, instrument_for_glucose):
    """Twenty resulted samples, one of them critical, made before the browser starts (once
    Playwright runs its event loop in this thread, a database call here would open a second
    connection that outlives the test)."""
    now = timezone.now()
    with run_inline() as engine:
        for n, barcode in enumerate(QUEUE):
            services.sample_register(
                user=technician,
                barcode=barcode,
                specimen_type="serum",
                subject_ref=f"SUBJ-{n % 5}",
                collected_at=now - timedelta(hours=1),
                assays=["GLU"],
            )
        engine.run_until_idle()
        for barcode in QUEUE:
            services.sample_receive(user=technician, barcode=barcode, condition="acceptable")
        engine.run_until_idle()
        for barcode in QUEUE:
            services.sample_request_batch(user=technician, barcode=barcode)
        engine.run_until_idle()
        batch = Batch.objects.get(status=BatchStatus.CLOSED)
        services.batch_start_run(user=technician, batch_id=batch.pk)
        engine.run_until_idle()
        for n, barcode in enumerate(QUEUE):
            services.result_record(
                barcode=barcode,
                assay_code="GLU",
                value=Decimal("1.9" if n == 0 else "5.0"),
                flags=[],
                instrument=instrument_for_glucose,
            )
        engine.run_until_idle()
    return reviewer


@pytest.fixture
def instrument_for_glucose(db):
    make_assay(batch_capacity=len(QUEUE))
    registered, _token = services.instrument_register(
        name="Cobas-1", model="cobas c 311", serial="C311-0001", assay_codes=["GLU"]
    )
    return registered


def reviewer_page(browser, live_server, username):
    page = sign_in(browser, live_server, username, viewport=TABLET, wait_ms=15_000)
    page.goto(f"{live_server.url}/review/")
    return page


def test_three_samples_signed_with_one_password_and_the_page_stays_put(queue, live_server, browser):
    page = reviewer_page(browser, live_server, queue.username)
    assert page.locator("#review-S-200001").get_by_text("⚠ Critical result").is_visible()
    picked = QUEUE[10:13]
    page.locator(f"#review-{picked[0]}").scroll_into_view_if_needed()
    for barcode in picked:
        page.check(f"#pick-{barcode}")
    page.get_by_text("3 samples selected.").wait_for()
    before = page.evaluate("window.scrollY")
    assert before > 0
    # The first signature of the session: both components, the user id and the password.
    page.fill("#sign-form input[name=username]", queue.username)
    page.fill("#sign-form input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_text(f"{', '.join(picked)} reviewed and released by Ravi").wait_for()
    # Later signatures in the same session ask for the password only.
    assert page.locator("#sign-form input[name=username]").count() == 0
    assert page.locator("#sign-form input[name=password]").count() == 1
    after = page.evaluate("window.scrollY")
    assert after > before / 2  # not sent back to the top
    for barcode in picked:
        assert "reviewed and released by Ravi" in page.locator(f"#review-{barcode}").inner_text()
    box = page.locator(f"#review-{picked[-1]}").bounding_box()
    assert box is not None and 0 <= box["y"] < TABLET["height"]  # still in view
    assert page.locator("input.pick").count() == len(QUEUE) - 3
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "review-signed.png")
    page.reload()  # signed, they have left the queue (no database call here: see the fixture)
    assert page.locator("input.pick").count() == len(QUEUE) - 3
    for barcode in picked:
        assert page.locator(f"#review-{barcode}").count() == 0


def test_select_all_shown_ticks_every_sample(queue, live_server, browser):
    page = reviewer_page(browser, live_server, queue.username)
    page.check("[data-select-all]")
    page.get_by_text(f"{len(QUEUE)} samples selected.").wait_for()
    assert page.locator("input.pick:checked").count() == len(QUEUE)
    page.uncheck("#pick-S-200005")
    assert not page.is_checked("[data-select-all]")
    page.get_by_text(f"{len(QUEUE) - 1} samples selected.").wait_for()
