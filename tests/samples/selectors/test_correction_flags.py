"""A corrected result is read again against its assay's ranges: the flag of the old value goes,
the new value's flag shows on the sample page, in its timeline and on the report, and the audit
event of the correction keeps the flag before and after."""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal

import pytest

from samples.models import Result, ResultEvent, Sample
from samples.selectors.timeline import sample_timeline
from tests.pdf import pdf_text


@pytest.fixture
def low(lab):
    """S-000851 released with 3.2 mmol/L, below the reference range 3.9 to 5.6: flag L."""
    lab.register("S-000851")
    lab.receive("S-000851")
    lab.analyse("S-000851", "3.2")
    lab.verify("S-000851")
    lab.env.run_until_idle()
    result = Result.objects.get(sample__barcode="S-000851")
    assert result.interpretation == "L" and lab.state("S-000851") == "reported"
    return result


def measured(result: Result) -> str:
    """When the result was measured, as the report's column prints it (in UTC)."""
    return f"{result.measured_at.astimezone(UTC):%Y-%m-%d %H:%M}"


def flag_cell(page: str, result: Result) -> str:
    row = re.search(rf'<tr id="result-{result.pk}">(.*?)</tr>', page, re.DOTALL)
    assert row is not None, page
    cell = re.search(r'<td class="flag">(.*?)</td>', row.group(1), re.DOTALL)
    assert cell is not None, row.group(1)
    return re.sub(r"<[^>]+>", "", cell.group(1)).strip()


def test_a_corrected_value_in_range_loses_its_flag_everywhere(lab, low, signed_in):
    client = signed_in(lab.technician)
    response = client.post(
        f"/samples/S-000851/results/{low.pk}/amend/",
        {"value": "4.9", "reason": "transcription error"},
    )
    assert response.status_code == 302
    low.refresh_from_db()
    assert low.value == Decimal("4.9") and low.interpretation == ""

    page = client.get("/samples/S-000851/").content.decode()
    assert flag_cell(page, low) == "none"

    timeline = sample_timeline(Sample.objects.get(barcode="S-000851"))
    corrected = [e for e in timeline if "corrected" in e.what]
    assert [e.what for e in corrected] == ["GLU corrected from 3.2 to 4.9 mmol/L, flag L → none"]
    assert corrected[0].who == lab.technician.username
    assert corrected[0].why == "transcription error"
    assert "GLU corrected from 3.2 to 4.9 mmol/L, flag L → none" in page

    report = pdf_text(client.get("/samples/S-000851/report.pdf").content).splitlines()
    rows = [line for line in report if line.startswith("GLU ")]
    # No flag: 4.9 is in range (the columns: reference interval, flag, measured, tested by).
    assert rows == [f"GLU 4.9 mmol/L 3.9\N{EN DASH}5.6 {measured(low)} Cobas-1"]
    assert (
        "GLU corrected from 3.2 to 4.9 mmol/L, flag L → none, "
        f"by {lab.technician.username}; reason: transcription error"
    ) in " ".join(report)  # the line may wrap


def test_the_audit_event_of_the_correction_keeps_the_flag_before_and_after(lab, low, signed_in):
    signed_in(lab.technician).post(
        f"/samples/S-000851/results/{low.pk}/amend/", {"value": "6.1", "reason": "misread"}
    )
    event = ResultEvent.objects.filter(pgh_obj=low).latest("pgh_id")
    assert (event.value, event.interpretation) == (Decimal("6.1"), "H")
    metadata = event.pgh_context.metadata
    assert (metadata["flag_before"], metadata["flag_after"]) == ("L", "H")
    assert metadata["reason"] == "misread"


def test_a_value_corrected_into_the_critical_range_is_marked_for_the_reviewer(lab, low, signed_in):
    client = signed_in(lab.technician)
    client.post(f"/samples/S-000851/results/{low.pk}/amend/", {"value": "2.0", "reason": "typo"})
    low.refresh_from_db()
    assert low.interpretation == "LL" and low.critical_flagged_at is not None
    client.post(f"/samples/S-000851/results/{low.pk}/amend/", {"value": "5.0", "reason": "again"})
    low.refresh_from_db()
    assert low.interpretation == "" and low.critical_flagged_at is None
    timeline = sample_timeline(Sample.objects.get(barcode="S-000851"))
    assert [e.what for e in timeline if e.what.startswith("GLU corrected")] == [
        "GLU corrected from 3.2 to 2 mmol/L, flag L → LL",
        "GLU corrected from 2 to 5 mmol/L, flag LL → none",
    ]
    # The critical value opened by the first correction was told to nobody: withdrawn.
    assert any(e.what.startswith("No call needed: the value was corrected") for e in timeline)


def test_a_correction_before_release_is_on_the_report_as_released(lab, signed_in):
    lab.register("S-000852")
    lab.receive("S-000852")
    lab.analyse("S-000852", "3.2")
    result = Result.objects.get(sample__barcode="S-000852")
    client = signed_in(lab.technician)
    client.post(f"/samples/S-000852/results/{result.pk}/amend/", {"value": "4,9", "reason": "typo"})
    lab.verify("S-000852")
    lab.env.run_until_idle()
    report = pdf_text(client.get("/samples/S-000852/report.pdf").content)
    assert f"GLU 4.9 mmol/L 3.9\N{EN DASH}5.6 {measured(result)} Cobas-1" in report.splitlines()
    assert "NO LONGER VALID" not in report
    assert "GLU corrected from 3.2 to 4.9 mmol/L, flag L → none" in report
