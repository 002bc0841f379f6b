"""Correcting a recorded result (COMPLIANCE.md C3, C12): a reason is required, the value first
recorded stays visible, the change is in the audit trail with who and why, and a signature over
the old value no longer holds, on screen and on the report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from samples.models import Result, ResultEvent, SampleEvent
from tests.pdf import pdf_text


@pytest.fixture
def released(lab, signed_in):
    lab.register("S-000801")
    lab.receive("S-000801")
    lab.analyse("S-000801", "5.0")
    lab.verify("S-000801")
    lab.env.run_until_idle()
    assert lab.state("S-000801") == "reported"
    return Result.objects.get(sample__barcode="S-000801")


def amend(client, result, **form):
    return client.post(f"/samples/S-000801/results/{result.pk}/amend/", form)


def test_a_correction_without_a_reason_is_refused_and_changes_nothing(lab, released, signed_in):
    response = amend(signed_in(lab.technician), released, value="5.2", reason="  ")
    assert response.status_code == 400
    assert "A correction needs a reason." in response.content.decode()
    released.refresh_from_db()
    assert released.value == Decimal("5.0") and released.amended_at is None
    assert ResultEvent.objects.filter(pgh_obj=released).count() == 1  # only the insert


def test_a_correction_keeps_the_first_value_visible_and_audits_who_and_why(
    lab, released, signed_in
):
    client = signed_in(lab.technician)
    response = amend(client, released, value="5.2", reason="transcription error")
    assert response.status_code == 302
    released.refresh_from_db()
    assert released.value == Decimal("5.2") and released.amended_by == lab.technician
    page = client.get("/samples/S-000801/").content.decode()
    assert "amended" in page and "first recorded as 5 mmol/L" in page
    assert "reason: transcription error" in page
    events = list(ResultEvent.objects.filter(pgh_obj=released).order_by("pgh_id"))
    first, last = events[0], events[-1]
    assert (first.value, last.value) == (Decimal("5.0"), Decimal("5.2"))
    assert last.pgh_context.metadata["reason"] == "transcription error"
    assert last.pgh_context.metadata["user"] == lab.technician.pk


def test_an_amendment_after_release_invalidates_the_signature_on_screen_and_report(
    lab, released, signed_in
):
    client = signed_in(lab.technician)
    assert "NO LONGER VALID" not in pdf_text(client.get("/samples/S-000801/report.pdf").content)
    assert "<strong>valid</strong>" in client.get("/samples/S-000801/").content.decode()
    amend(client, released, value="5.2", reason="transcription error")
    page = client.get("/samples/S-000801/").content.decode()
    assert "no longer valid</strong>: a result was amended after signing" in page
    report = pdf_text(client.get("/samples/S-000801/report.pdf").content)
    assert "NO LONGER VALID" in report and "5.2" in report


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"value": "five", "reason": "typo"}, "is not a number"),
        ({"value": "5.0", "reason": "typo"}, "The value is already 5."),
    ],
)
def test_a_bad_correction_is_refused_with_the_reason(lab, released, signed_in, form, message):
    response = amend(signed_in(lab.technician), released, **form)
    assert response.status_code == 400 and message in response.content.decode()
    released.refresh_from_db()
    assert released.value == Decimal("5.0")


def test_a_compliance_officer_may_not_correct_a_result(
    lab, released, signed_in, compliance_officer
):
    response = amend(signed_in(compliance_officer), released, value="5.2", reason="why")
    assert response.status_code == 403
    released.refresh_from_db()
    assert released.value == Decimal("5.0")


def test_the_condition_at_receipt_is_corrected_only_with_a_reason(lab, released, signed_in):
    client = signed_in(lab.technician)
    url = "/samples/S-000801/condition/"
    refused = client.post(url, {"condition": "haemolysed", "reason": ""})
    assert refused.status_code == 400 and "A correction needs a reason." in refused.content.decode()
    assert client.post(url, {"condition": "boiled", "reason": "x"}).status_code == 400
    done = client.post(url, {"condition": "haemolysed", "reason": "seen on recentrifugation"})
    assert done.status_code == 302
    page = " ".join(client.get("/samples/S-000801/").content.decode().split())
    assert "Haemolysed (slight)" in page and "first recorded as acceptable" in page
    assert "reason: seen on recentrifugation" in page
    last = SampleEvent.objects.filter(pgh_obj__barcode="S-000801").latest("pgh_id")
    assert last.receipt_condition == "haemolysed"
    assert last.pgh_context.metadata["reason"] == "seen on recentrifugation"
