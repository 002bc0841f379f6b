"""Tampering with the evidence around the audit trail: who and why of a change (the context
rows), the instrument messages as received, the stored report PDFs, who started a batch's run.
Each attempt is refused by the database, or, made with its guards switched off (as a database
superuser can), found by ``audit verify`` and shown loudly wherever the record is shown."""

from __future__ import annotations

import hashlib
import json

import pghistory
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from samples.models import Assay, Batch, InstrumentMessage, Report, Result, ResultEvent
from samples.services.amendments import result_amend
from samples.services.tokens import api_token_create
from tests.database_roles import rewrite_around_triggers
from tests.pdf import pdf_text
from tests.samples.conftest import glucose, instrument, lab  # noqa: F401  (fixtures)
from tests.samples.lab import make_assay

# The tampering is done on a connection of the tables' owner, which sees committed rows only.
pytestmark = pytest.mark.django_db(transaction=True)

BARCODE = "S-000931"


def tampered(table: str, sql: str, *params: object) -> None:
    """Run ``sql`` on ``table`` with the table's triggers switched off, as only its owner or a
    database superuser can (on a connection of its own, committed)."""
    rewrite_around_triggers(table, sql, *params)


# The application's role has no right to most of these (refused before any trigger runs); a
# role with every grant meets the triggers (tests/tamper/test_database_attempts.py).
def attempted(sql: str, *params: object) -> None:
    """Run ``sql`` with every guard in place (in a savepoint, so the test goes on after it
    is refused)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def verify_findings(capsys) -> str:
    with pytest.raises(CommandError, match="chains are broken"):
        call_command("audit", "verify")
    return capsys.readouterr().out


@pytest.fixture
def released(lab):  # noqa: F811
    """A sample whose result came from the instrument's API, signed and released (its report
    stored)."""
    lab.register(BARCODE)
    lab.receive(BARCODE)
    lab.to_batch(BARCODE)
    lab.close_batches()
    lab.start_run()
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(owner=lab.instrument.service_user)}"
    )
    body = {"sample": BARCODE, "assay": "GLU", "value": "5.1", "run_id": "R-31"}
    assert api.post("/api/v1/results/", body, format="json").status_code == 201
    lab.env.run_until_idle()
    lab.verify(BARCODE)
    lab.env.run_until_idle()
    assert Report.objects.filter(sample__barcode=BARCODE).exists()
    return BARCODE


def dossier(client) -> dict:
    response = client.get(f"/samples/{BARCODE}/custody.json")
    assert response.status_code == 200
    return json.loads(response.content)["dossier"]


def test_rewriting_context_who_is_detected(
    lab,  # noqa: F811
    released,
    compliance_officer,
    signed_in,
    capsys,
):
    result = Result.objects.get(sample__barcode=BARCODE)
    with pghistory.context(user=lab.technician.pk, url=f"/samples/{BARCODE}/"):
        result_amend(
            user=lab.technician, result_id=result.pk, value="5.3", reason="transcription error"
        )
    event = ResultEvent.objects.filter(pgh_obj=result).latest("pgh_id")
    assert event.pgh_context_snapshot["user"] == lab.technician.pk
    assert event.pgh_context_snapshot["reason"] == "transcription error"
    call_command("audit", "verify")
    assert "every chain is intact" in capsys.readouterr().out

    rewrite = {"user": lab.reviewer.pk, "reason": "entered twice"}
    tampered(
        "pghistory_context",
        "UPDATE pghistory_context SET metadata = metadata || %s::jsonb WHERE id = %s",
        json.dumps(rewrite),
        str(event.pgh_context_id),
    )

    out = verify_findings(capsys)
    assert f"BROKEN context {event.pgh_context_id}: its who and why were changed or" in out
    assert f"samples_resultevent row {event.pgh_id}" in out
    client = signed_in(compliance_officer)
    page = client.get("/audit/", {"sample": BARCODE, "type": "result.update"}).content.decode()
    assert "changed by tess" in page and "transcription error" in page
    assert "changed by ravi" not in page and "entered twice" not in page
    changes = dossier(client)["changes"]
    [change] = [c for c in changes if c["record"] == "result" and c["change"] == "update"]
    assert change["who"] == "tess" and change["why"] == "transcription error"
    assert change["context"]["user"] == lab.technician.pk and change["context_in_hash"]


def test_deleting_a_context_is_detected(lab, released, capsys):  # noqa: F811
    result = Result.objects.get(sample__barcode=BARCODE)
    with pghistory.context(user=lab.technician.pk, url=f"/samples/{BARCODE}/"):
        result_amend(user=lab.technician, result_id=result.pk, value="5.3", reason="typo")
    event = ResultEvent.objects.filter(pgh_obj=result).latest("pgh_id")
    tampered(
        "pghistory_context",
        "DELETE FROM pghistory_context WHERE id = %s",
        str(event.pgh_context_id),
    )
    out = verify_findings(capsys)
    assert f"BROKEN context {event.pgh_context_id}: its who and why were changed or removed" in out


def test_rewriting_the_who_kept_in_an_event_is_detected(lab, released, capsys):  # noqa: F811
    result = Result.objects.get(sample__barcode=BARCODE)
    with pghistory.context(user=lab.technician.pk, url=f"/samples/{BARCODE}/"):
        result_amend(user=lab.technician, result_id=result.pk, value="5.3", reason="typo")
    event = ResultEvent.objects.filter(pgh_obj=result).latest("pgh_id")
    tampered(
        "samples_resultevent",
        "UPDATE samples_resultevent SET pgh_context_snapshot = %s::jsonb WHERE pgh_id = %s",
        json.dumps({"user": lab.reviewer.pk, "reason": "typo"}),
        event.pgh_id,
    )
    out = verify_findings(capsys)
    assert f"BROKEN samples_resultevent row {event.pgh_id}: its content does not match" in out


@pytest.mark.django_db(transaction=True)
def test_changing_or_deleting_a_context_after_its_transaction_is_refused(administrator):
    assay = make_assay()
    with pghistory.context(user=administrator.pk, url="/admin/samples/assay/1/change/"):
        Assay.objects.filter(pk=assay.pk).update(name="Glucose (plasma)")  # its own transaction
    [context_id] = {
        str(e.pgh_context_id) for e in assay.audit_events.all() if e.pgh_context_id is not None
    }
    with pytest.raises(DatabaseError, match="changed only by the transaction that wrote it"):
        attempted(
            "UPDATE pghistory_context SET metadata = '{\"user\": 1}' WHERE id = %s", context_id
        )
    with pytest.raises(DatabaseError, match=r"never deleted|permission denied"):
        attempted("DELETE FROM pghistory_context WHERE id = %s", context_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT metadata FROM pghistory_context WHERE id = %s", [context_id])
        assert json.loads(cursor.fetchone()[0])["user"] == administrator.pk


@pytest.mark.django_db(transaction=True)
def test_a_request_spanning_transactions_keeps_each_events_who_and_why(administrator, capsys):
    """django-pghistory adds to a request's context as it goes; a later transaction of the same
    request is not refused, and each event keeps the context it was written with."""
    assay = make_assay()
    with pghistory.context(user=administrator.pk, url="/admin/samples/assay/1/change/"):
        Assay.objects.filter(pk=assay.pk).update(name="Glucose (plasma)")
        pghistory.context(reason="renamed by the supplier")
        Assay.objects.filter(pk=assay.pk).update(units="mg/dL")
    first, second = assay.audit_events.filter(pgh_label="update").order_by("pgh_id")
    assert first.pgh_context_id == second.pgh_context_id
    assert "reason" not in first.pgh_context_snapshot
    assert second.pgh_context_snapshot["reason"] == "renamed by the supplier"
    call_command("audit", "verify")
    assert "every chain is intact" in capsys.readouterr().out


def test_rewriting_message_bytes_is_refused(lab, released):  # noqa: F811
    message = InstrumentMessage.objects.get()
    with pytest.raises(DatabaseError, match=r"kept as received|permission denied"):
        attempted("UPDATE samples_instrumentmessage SET raw = 'x' WHERE id = %s", message.pk)
    with pytest.raises(DatabaseError, match=r"kept as received|permission denied"):
        attempted("UPDATE samples_instrumentmessage SET answer = '{}' WHERE id = %s", message.pk)
    with pytest.raises(DatabaseError, match=r"never deleted|permission denied"):
        attempted("DELETE FROM samples_instrumentmessage WHERE id = %s", message.pk)


def test_tampering_message_bytes_is_detected(lab, released, signed_in, capsys):  # noqa: F811
    message = InstrumentMessage.objects.get()
    forged = bytes(message.raw).replace(b'"5.1"', b'"9.1"')
    tampered(
        "samples_instrumentmessage",
        "UPDATE samples_instrumentmessage SET raw = %s WHERE id = %s",
        forged,
        message.pk,
    )
    out = verify_findings(capsys)
    assert f"BROKEN instrument message {message.pk}: its stored bytes do not match" in out
    client = signed_in(lab.reviewer)
    content = dossier(client)
    [shown] = content["instrument_messages"]
    assert shown["intact"] is False and shown["sha256"] == message.sha256
    assert content["verification"]["intact"] is False
    pdf = " ".join(pdf_text(client.get(f"/samples/{BARCODE}/custody.pdf").content).split())
    assert f"NOT INTACT: instrument message {message.pk}: its stored bytes do not match" in pdf
    assert "STORED BYTES DO NOT MATCH ITS RECORDED SHA-256" in pdf


def test_rewriting_message_bytes_with_their_hash_is_detected(
    lab,  # noqa: F811
    released,
    signed_in,
    capsys,
):
    message = InstrumentMessage.objects.get()
    forged = bytes(message.raw).replace(b'"5.1"', b'"9.1"')
    tampered(
        "samples_instrumentmessage",
        "UPDATE samples_instrumentmessage SET raw = %s, sha256 = %s WHERE id = %s",
        forged,
        hashlib.sha256(forged).hexdigest(),
        message.pk,
    )
    out = verify_findings(capsys)
    assert f"BROKEN instrument message {message.pk}: its recorded SHA-256 is not the one" in out
    [shown] = dossier(signed_in(lab.reviewer))["instrument_messages"]
    assert shown["intact"] is False


def test_rewriting_a_report_is_refused(lab, released):  # noqa: F811
    report = Report.objects.get()
    with pytest.raises(DatabaseError, match=r"Cannot update or delete|permission denied"):
        attempted("UPDATE samples_report SET pdf = 'x' WHERE id = %s", report.pk)
    with pytest.raises(DatabaseError, match=r"Cannot update or delete|permission denied"):
        attempted("DELETE FROM samples_report WHERE id = %s", report.pk)


def test_tampering_report_pdf_is_not_served(lab, released, signed_in, capsys, caplog):  # noqa: F811
    report = Report.objects.get()
    assert signed_in(lab.reviewer).get(f"/samples/{BARCODE}/report.pdf").status_code == 200
    forged = bytes(report.pdf) + b"% a page added\n"
    tampered(
        "samples_report", "UPDATE samples_report SET pdf = %s WHERE id = %s", forged, report.pk
    )

    response = signed_in(lab.reviewer).get(f"/samples/{BARCODE}/report.pdf")
    assert response.status_code == 409 and response["Content-Type"].startswith("text/html")
    assert b"does not match its recorded SHA-256" in response.content
    assert any(
        r.levelname == "ERROR" and "does not match its recorded SHA-256" in r.getMessage()
        for r in caplog.records
    )
    out = verify_findings(capsys)
    assert f"BROKEN report of sample {BARCODE}: its stored PDF does not match" in out
    shown = dossier(signed_in(lab.reviewer))["report"]
    assert shown["intact"] is False and shown["sha256"] == report.sha256


def test_changing_who_started_a_batch_shows_in_the_trail(
    lab,  # noqa: F811
    compliance_officer,
    signed_in,
):
    lab.register(BARCODE)
    lab.receive(BARCODE)
    lab.to_batch(BARCODE)
    lab.close_batches()
    batch = lab.start_run()
    batch.refresh_from_db()
    assert batch.started_by == lab.technician
    Batch.objects.filter(pk=batch.pk).update(started_by=lab.reviewer)

    client = signed_in(compliance_officer)
    page = client.get("/audit/", {"type": "batch"}).content.decode()  # the lab's view
    assert f"GLU batch {batch.pk} changed" in page
    assert "started by tess → ravi" in page
    events = batch.audit_events.order_by("pgh_id")
    assert [e.started_by_id for e in events][-2:] == [lab.technician.pk, lab.reviewer.pk]
