"""The audit trail in the lab's words: by default the page shows what people did and what
happened to samples, the engine's bookkeeping (steps scheduled, started and done, waits, signals
taken, state marks) left out; ``?detail=all`` and every export keep every entry; failures and
cancellations are never left out; the chain-of-custody dossier reads the same way."""

from __future__ import annotations

import csv
import io
import re

import pytest

from samples import services
from samples.roles import Role
from samples.selectors.audit import AuditFilter, audit_count, audit_entries, audit_page
from tests.pdf import pdf_text
from workflows.api import get_run
from workflows.ops import HISTORY_KINDS, decide, intervene

pytestmark = pytest.mark.django_db

SIGNED = "Results of S-000901 signed by Ravi (reviewed and released)"


@pytest.fixture
def resulted(lab):
    lab.register("S-000901")
    lab.receive("S-000901")
    lab.analyse("S-000901", "5.1")
    return "S-000901"


def keys(lab_view: bool, **chosen) -> set:
    return {e.key for e in audit_entries(AuditFilter(**chosen), lab=lab_view)}


def test_a_signature_is_one_entry_in_the_lab_view_and_all_of_them_in_the_full_one(lab, resulted):
    full_before, lab_before = keys(False), keys(True)
    lab.verify(resulted)
    new_in_full = [e for e in audit_entries(AuditFilter()) if e.key not in full_before]
    new_in_lab = [e for e in audit_entries(AuditFilter(), lab=True) if e.key not in lab_before]
    assert [e.what for e in new_in_lab] == [SIGNED]
    assert len(new_in_full) >= 12  # the signal, its steps, the state marks, the run's end
    steps = {e.what for e in new_in_full}
    assert "Sample S-000901: step samples.mark scheduled" in steps
    assert "Sample S-000901 verified and released by ravi" in steps
    assert audit_count(AuditFilter(), lab=True) == len(keys(True)) < audit_count(AuditFilter())


def test_the_page_shows_the_lab_view_and_every_entry_on_request(
    lab, resulted, compliance_officer, signed_in
):
    lab.verify(resulted)
    client = signed_in(compliance_officer)
    lab_html = client.get("/audit/", {"sample": resulted}).content.decode()
    table = lab_html.split("<tbody>")[1].split("</tbody>")[0]
    assert SIGNED in table
    assert "Sample S-000901 received by tess (condition acceptable)" in table
    assert "scheduled" not in table and "waits for" not in table
    assert "<strong>The lab's view</strong>" in lab_html
    assert 'href="?sample=S-000901&amp;detail=all">Show every engine event' in lab_html
    assert "every entry of the selection, the engine's bookkeeping included" in lab_html
    full_html = client.get("/audit/", {"sample": resulted, "detail": "all"}).content.decode()
    assert "Sample S-000901: step samples.mark scheduled" in full_html
    assert '<input type="hidden" name="detail" value="all">' in full_html


def test_the_csv_export_keeps_every_entry_whatever_the_view(
    lab, resulted, compliance_officer, signed_in
):
    lab.verify(resulted)
    response = signed_in(compliance_officer).get(
        "/audit/export.csv", {"sample": resulted, "detail": "lab"}
    )
    body = b"".join(response.streaming_content).decode("utf-8-sig").rsplit("\r\n\r\n", 1)[0]
    rows = list(csv.reader(io.StringIO(body)))[1:]
    chosen = AuditFilter(sample=resulted)
    assert len(rows) == audit_count(chosen) > audit_count(chosen, lab=True)
    assert "Sample S-000901: step samples.mark scheduled" in {row[2] for row in rows}


def test_a_failed_step_stays_in_the_lab_view(lab):
    # Registered with no assay left by the time its plan runs: the plan's step fails.
    sample = services.sample_register(
        user=lab.technician, barcode="S-000902", specimen_type="serum", subject_ref="SUBJ-2",
        collected_at=lab.env.now(), assays=["GLU"],
    )  # fmt: skip
    sample.assays.clear()
    lab.env.run_until_idle()
    shown = list(audit_entries(AuditFilter(sample="S-000902"), lab=True))
    failed = [e for e in shown if e.type == "step_failed"]
    assert failed
    assert failed[0].what.startswith("Sample S-000902: step samples.lifecycle_plan failed")


def test_a_cancellation_stays_in_the_lab_view(lab, make_user):
    make_user("sup-a", Role.REVIEWER)
    make_user("sup-b", Role.REVIEWER)
    sample = lab.register("S-000903")
    asked = intervene(str(sample.run_id), "cancel", actor="sup-a", reason="registered twice")
    decide(asked.id, actor="sup-b", approve=True)
    lab.env.run_until_idle()
    assert get_run(str(sample.run_id)).status == "cancelled"
    kinds = {e.type for e in audit_entries(AuditFilter(sample="S-000903"), lab=True)}
    assert {
        "intervention_requested",
        "intervention_approved",
        "cancel_requested",
        "run_cancelled",
    } <= kinds


def test_lab_view_pages_follow_each_other_without_gaps_or_repeats(lab, resulted):
    lab.verify(resulted)
    lab.register("S-000904")
    lab.receive("S-000904")
    newest_first = list(reversed(list(audit_entries(AuditFilter(), lab=True))))
    assert len(newest_first) > 12
    assert not any(e.folded for e in newest_first)
    seen, page = [], audit_page(AuditFilter(), size=4, lab=True)
    while True:
        seen += page.entries
        if page.older is None:
            break
        page = audit_page(AuditFilter(), before=page.older, size=4, lab=True)
    assert [e.key for e in seen] == [e.key for e in newest_first]
    start = len(seen) - len(page.entries)
    back = audit_page(AuditFilter(), after=page.entries[0].key, size=4, lab=True)
    assert [e.key for e in back.entries] == [e.key for e in newest_first[start - 4 : start]]


def test_the_dossier_pdf_speaks_the_labs_words(lab, resulted, signed_in):
    lab.verify(resulted)
    client = signed_in(lab.reviewer)
    text = pdf_text(client.get(f"/samples/{resulted}/custody.pdf").content)
    assert "Sample S-000901 registered by tess" in text
    assert "Sample S-000901 received by tess (condition acceptable)" in text
    assert "Result 5.1 mmol/L for GLU of S-000901 entered by instrument Cobas-1" in text
    assert SIGNED in text
    assert not re.search(r"\b(insert|update|delete) \d", text)
    assert not re.search(r"\b\w+ \d+ (insert|update|delete)\b", text)
    assert not [kind for kind in HISTORY_KINDS if kind in text]
    assert "step samples." not in text and "waits for" not in text
    # The sentence may wrap before its last words.
    assert re.search(
        r"\d+ entries of the engine's bookkeeping \(.*\)\s+are\s+left\s+out\s+here", text
    )


def test_the_dossier_json_keeps_every_event_with_its_words(lab, resulted, signed_in):
    lab.verify(resulted)
    content = signed_in(lab.reviewer).get(f"/samples/{resulted}/custody.json").json()["dossier"]
    lifecycle, changes = content["lifecycle"], content["changes"]
    assert len(lifecycle) == sum(len(run.history) for run in [get_run(lifecycle[0]["run"])])
    scheduled = [e for e in lifecycle if e["kind"] == "step_scheduled"]
    assert scheduled and not any(e["lab_view"] for e in scheduled)
    assert scheduled[0]["what"].startswith("Sample S-000901: step ")
    [signature] = [c for c in changes if c["record"] == "signature"]
    assert (signature["what"], signature["change"], signature["lab_view"]) == (
        SIGNED,
        "insert",
        True,
    )
    assert all(e["what"] for e in lifecycle + changes)
