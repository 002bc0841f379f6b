"""One test per statement of the compliance sheet that the audit trail owns (COMPLIANCE.md C1
to C7, C11 to C14), each named after it. Details of each are tested in the modules named in
its docstring; here each statement is shown end to end."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from samples.models import (
    Assay,
    AssayEvent,
    AuditReview,
    AuditReviewEvent,
    Result,
    ResultEvent,
    SampleEvent,
    Signature,
)
from samples.selectors.audit import AuditFilter, audit_count
from tests.cast import PASSWORD
from tests.pdf import pdf_text
from tests.samples.jobs import job_download, job_followed
from workflows.api import get_run


def raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def resulted(lab):
    lab.register("S-000601")
    lab.receive("S-000601")
    lab.analyse("S-000601", "5.0")
    return Result.objects.get(sample__barcode="S-000601")


def test_c1_every_change_of_a_regulated_record_is_audited_whatever_the_path(lab, resulted):
    """Also tests/samples/selectors/test_audit_trail.py (admin page, bulk update, raw SQL,
    commands)."""
    Assay.objects.filter(code="GLU").update(reference_high=Decimal("6.5"))  # bulk
    raw("UPDATE samples_assay SET critical_high = 30 WHERE code = 'GLU'")  # raw SQL
    assert AssayEvent.objects.filter(pgh_obj__code="GLU").count() == 3  # insert + 2 updates
    states = SampleEvent.objects.filter(pgh_obj=resulted.sample).order_by("pgh_id")
    assert [e.state for e in states][-1] == "resulted"  # workflow steps' writes too
    assert ResultEvent.objects.filter(pgh_obj=resulted, pgh_label="insert").exists()


def test_c2_an_entry_holds_who_what_when_old_and_new_value_and_why(lab, resulted, signed_in):
    before = timezone.now()
    client = signed_in(lab.technician)
    client.post(
        f"/samples/S-000601/results/{resulted.pk}/amend/", {"value": "5.2", "reason": "typo"}
    )
    old, new = ResultEvent.objects.filter(pgh_obj=resulted).order_by("pgh_id")[:2]
    assert (old.value, new.value) == (Decimal("5.0"), Decimal("5.2"))
    assert new.pgh_context.metadata["user"] == lab.technician.pk  # who
    assert new.pgh_context.metadata["reason"] == "typo"  # why
    assert new.pgh_created_at >= before  # when: the server's clock
    # The lifecycle's own events name theirs: the receipt by the technician, the result by
    # the instrument (its service identity, which the trail shows as the instrument).
    history = get_run(str(resulted.sample.run_id)).history
    actors = {e.actor for e in history if e.kind == "signal_received"}
    assert {lab.technician.username, lab.instrument.service_user.username} <= actors


def test_c3_a_correction_without_a_reason_is_refused_and_the_original_stays(
    lab, resulted, signed_in
):
    """Also tests/samples/services/test_amendments.py."""
    client = signed_in(lab.technician)
    url = f"/samples/S-000601/results/{resulted.pk}/amend/"
    assert client.post(url, {"value": "5.2", "reason": ""}).status_code == 400
    resulted.refresh_from_db()
    assert resulted.value == Decimal("5.0")
    client.post(url, {"value": "5.2", "reason": "transcription error"})
    assert "first recorded as 5 mmol/L" in client.get("/samples/S-000601/").content.decode()


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("workflows_historyevent", "reason"),
        ("samples_resultevent", "pgh_label"),
        ("samples_sampleevent", "pgh_label"),
    ],
)
def test_c4_the_database_refuses_to_update_or_delete_audit_rows(lab, resulted, table, column):
    """Also tests/workflows/test_history_chain.py."""
    for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError), transaction.atomic():
            raw(sql)
    assert not [name for name in get_commands() if "purge" in name]  # and no purge command


@pytest.mark.django_db(transaction=True)
def test_c5_a_tampered_row_is_found_and_named_by_audit_verify(
    lab, resulted, capsys, rewrite_around_triggers
):
    call_command("audit", "verify")
    assert "every chain is intact" in capsys.readouterr().out
    rewrite_around_triggers("samples_resultevent", "UPDATE samples_resultevent SET value = 9.9")
    with pytest.raises(Exception, match="chains are broken"):
        call_command("audit", "verify")
    assert "BROKEN samples_resultevent row" in capsys.readouterr().out


def test_c6_the_filtered_selection_is_exported_complete_as_csv_json_and_pdf(
    lab, resulted, signed_in, compliance_officer, monkeypatch
):
    """Also tests/samples/views/test_audit_page.py (each filter, streaming, the manifest's hash)."""
    client = signed_in(compliance_officer)
    page = client.get("/audit/", {"sample": "S-000601"}).content.decode()
    assert "S-000601" in page
    expected = audit_count(AuditFilter(sample="S-000601"))
    assert expected > 5
    csv_text = b"".join(
        client.get("/audit/export.csv", {"sample": "S-000601"}).streaming_content
    ).decode("utf-8-sig")
    rows, manifest = csv_text.split("\r\n\r\n", 1)
    assert len(list(csv.reader(io.StringIO(rows)))) == expected + 1  # and the header
    assert f"{expected}" in manifest
    document = json.loads(
        b"".join(client.get("/audit/export.json", {"sample": "S-000601"}).streaming_content)
    )
    assert len(document["entries"]) == document["manifest"]["rows"] == expected
    job, _ = job_followed(client, lab.env, client.post("/audit/export.pdf?sample=S-000601"))
    pdf = job_download(client, job)
    assert pdf.startswith(b"%PDF") and job.file_sha256 == hashlib.sha256(pdf).hexdigest()
    text = pdf_text(pdf)
    assert f"Entries: {expected}" in text
    monkeypatch.setattr("samples.views.audit.PDF_MAX_ENTRIES", expected - 1)
    too_many = client.post("/audit/export.pdf?sample=S-000601")
    assert too_many.status_code == 400 and b"export it as CSV or JSON" in too_many.content


def test_c7_a_review_of_the_trail_is_recorded_and_itself_audited(
    lab, resulted, signed_in, compliance_officer
):
    client = signed_in(compliance_officer)
    response = client.post(
        "/audit/review/?sample=S-000601", {"outcome": "findings", "comment": "late receipt"}
    )
    assert response.status_code == 302
    review = AuditReview.objects.get()
    assert (review.reviewer, review.outcome, review.comment) == (
        compliance_officer,
        "findings",
        "late receipt",
    )
    assert review.selection["sample"] == "S-000601"
    assert review.entries == audit_count(AuditFilter(sample="S-000601"))
    assert AuditReviewEvent.objects.filter(pgh_obj=review, pgh_label="insert").exists()
    page = client.get("/audit/", {"type": "review"}).content.decode()
    assert "Audit trail reviewed by carmen" in page
    refused = client.post("/audit/review/", {"outcome": "findings", "comment": ""})
    assert refused.status_code == 302 and AuditReview.objects.count() == 1


def test_c11_release_is_an_e_signature_with_the_password_and_its_meaning(lab, resulted, signed_in):
    from axes.models import AccessAttempt

    client = signed_in(lab.reviewer)
    client.post("/review/S-000601/verify/", {"username": lab.reviewer.username, "password": "x"})
    assert not Signature.objects.exists()
    assert AccessAttempt.objects.get(username=lab.reviewer.username).failures_since_start == 1
    client.post(
        "/review/S-000601/verify/", {"username": lab.reviewer.username, "password": PASSWORD}
    )
    assert Signature.objects.get().meaning == "reviewed and released"


def test_c12_a_signature_is_bound_to_what_was_signed_and_an_amendment_voids_it(
    lab, resulted, signed_in
):
    """Also tests/samples/services/test_amendments.py (the report says so too)."""
    lab.verify("S-000601")
    signature = Signature.objects.get()
    assert signature.printed_name and signature.signed_at.utcoffset() == timedelta(0)
    client = signed_in(lab.technician)
    assert "<strong>valid</strong>" in client.get("/samples/S-000601/").content.decode()
    client.post(
        f"/samples/S-000601/results/{resulted.pk}/amend/", {"value": "5.5", "reason": "typo"}
    )
    assert "no longer valid" in client.get("/samples/S-000601/").content.decode()


def test_c13_accounts_are_never_deleted_or_reused(lab, resulted):
    technician = lab.technician
    with pytest.raises(DatabaseError), transaction.atomic():
        raw("DELETE FROM auth_user WHERE id = %s", technician.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        get_user_model().objects.create_user(username=technician.username, password="x")
    technician.is_active = False
    technician.save()
    assert get_user_model().objects.filter(pk=technician.pk, is_active=False).exists()


def test_c14_repeated_failed_sign_ins_lock_and_idle_sessions_end(
    client, technician, second_technician, signed_in
):
    """Also tests/samples/views/test_login_lockout.py and test_idle_logout.py."""
    for _ in range(5):
        client.post("/accounts/login/", {"username": technician.username, "password": "no"})
    again = client.post("/accounts/login/", {"username": technician.username, "password": PASSWORD})
    assert again.status_code == 429
    with time_machine.travel(timezone.now(), tick=False) as clock:
        colleague = signed_in(second_technician)
        assert colleague.get("/scan/").status_code == 200
        clock.shift(timedelta(minutes=16))
        assert colleague.get("/scan/").status_code == 302
