"""Background jobs in a real browser, with a real Celery worker doing them: a technician's CSV
import and a compliance officer's chain check and audit PDF each land on the job's page, whose
progress bar the page refreshes by itself until the report or the file is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.pages import sign_in
from tests.samples.lab import make_assay

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAIT_MS = 120_000
ROWS = 300


@pytest.fixture
def scene(technician, compliance_officer):
    """Made before the browser starts (Playwright then runs an event loop in this thread)."""
    make_assay()
    return technician, compliance_officer


def test_an_import_a_check_and_a_pdf_run_in_the_background_with_progress(
    scene, live_server, worker, browser, tmp_path
):
    technician, officer = scene
    rows = ["barcode,specimen_type,subject_ref,collected_at,priority,assays"]
    rows += [f"J-{n:06d},serum,Zoë {n},2026-11-30T08:30,,GLU" for n in range(1, ROWS + 1)]
    rows.append("J-000001,serum,again,2026-11-30T08:30,,GLU")  # a reused barcode
    upload = tmp_path / "tubes.csv"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")

    bench = sign_in(browser, live_server, technician.username, wait_ms=WAIT_MS)
    bench.goto(f"{live_server.url}/samples/import/")
    bench.set_input_files("input[type=file]", str(upload))
    bench.get_by_role("button", name="Register the samples").click()
    bench.wait_for_url("**/jobs/*/")
    bench.locator("#job-progress progress").wait_for()  # shown at once, filled by the polls
    bench.get_by_text(f"{ROWS} sample(s) registered, 1 row(s) refused.").wait_for()
    refused = bench.locator("#job-progress table tbody tr")
    assert refused.count() == 1 and "J-000001 is already registered" in refused.inner_text()
    with bench.expect_download() as download:
        bench.get_by_text("Download the report of every line (CSV)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert len(report) == ROWS + 2  # the header and every line of the file
    bench.click("text=Jobs")
    assert "Sample import from a CSV file: tubes.csv" in bench.locator("table").inner_text()

    office = sign_in(browser, live_server, officer.username, wait_ms=WAIT_MS)
    office.goto(f"{live_server.url}/audit/")
    office.get_by_role("button", name="Verify the chains").click()
    office.wait_for_url("**/jobs/*/")
    office.get_by_text("Intact:").wait_for()
    office.goto(f"{live_server.url}/audit/?sample=J-000007")
    office.get_by_role("button", name="PDF").click()
    office.wait_for_url("**/jobs/*/")
    with office.expect_download() as download:
        office.get_by_role("link", name="Download audit-trail-").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
