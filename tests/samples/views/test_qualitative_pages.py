"""Every page that shows a result shows an answer: the batch board takes one by hand from the
assay's answers, the scan card, the review list (beside the normal answers, flagged abnormal),
the sample page (corrected to another answer, the first one kept visible), the report, the
custody dossier, the audit trail and the assay list."""

from __future__ import annotations

import json

import pytest

from samples.models import Batch, Result, ResultEvent
from samples.selectors.audit import AuditFilter, audit_entries
from samples.selectors.signatures import signature_valid
from tests.pdf import pdf_text
from tests.samples.qualitative import make_qualitative, running

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def hiv(db):
    return make_qualitative()


@pytest.fixture
def resulted(lab, hiv):
    running(lab, "S-000401")
    lab.post("S-000401", "positive", assay="HIV")
    return Result.objects.get(sample__barcode="S-000401")


def test_the_batch_board_takes_an_answer_by_hand_from_the_assays_answers(lab, hiv, signed_in):
    running(lab, "S-000402")
    client = signed_in(lab.technician)
    board = client.get("/batches/").content.decode()
    assert '<select name="value"><option>Negative</option><option>Positive</option>' in board
    batch = Batch.objects.get(assay__code="HIV")
    entry = {"barcode": "S-000402", "assay": "HIV", "reason": "analyser down"}
    bad = client.post(f"/batches/{batch.pk}/result/", {**entry, "value": "Maybe"})
    assert bad.status_code == 400
    assert "is not an answer of HIV: it takes Negative, Positive or Indeterminate" in (
        bad.content.decode()
    )
    done = client.post(f"/batches/{batch.pk}/result/", {**entry, "value": "Negative"}, follow=True)
    assert "HIV Negative recorded for S-000402." in done.content.decode()
    assert Result.objects.get().text == "Negative"


def test_the_scan_card_shows_the_answer_and_its_flag(lab, resulted, signed_in):
    card = signed_in(lab.technician).post("/scan/", {"barcode": "S-000401"}, **HTMX)
    body = card.content.decode()
    assert '<td class="num">Positive</td>' in body and "<td>A " in body


def test_the_review_list_shows_the_answer_beside_the_normal_ones_flagged_abnormal(
    lab, resulted, signed_in
):
    body = signed_in(lab.reviewer).get("/review/").content.decode()
    assert '<td class="num">Positive</td>' in body
    assert "normal: Negative" in body and "abnormal" in body


def test_an_answer_is_corrected_to_another_answer_with_the_first_kept_visible(
    lab, resulted, signed_in
):
    lab.verify("S-000401")
    client = signed_in(lab.technician)
    page = client.get("/samples/S-000401/").content.decode()
    assert '<td class="num">Positive</td>' in page
    assert "<option>Negative</option>" in page and "<option>Positive</option>" not in page
    url = f"/samples/S-000401/results/{resulted.pk}/amend/"
    same = client.post(url, {"value": "POSITIVE", "reason": "recheck"})
    assert same.status_code == 400 and "The value is already Positive." in same.content.decode()
    number = client.post(url, {"value": "0.4", "reason": "recheck"})
    assert number.status_code == 400 and "not a number" in number.content.decode()
    done = client.post(url, {"value": "negative", "reason": "wrong tube read"}, follow=True)
    assert "HIV corrected to Negative; flag: none." in done.content.decode()
    resulted.refresh_from_db()
    assert (resulted.text, resulted.value, resulted.interpretation) == ("Negative", None, "")
    page = client.get("/samples/S-000401/").content.decode()
    assert "first recorded as Positive" in page
    events = ResultEvent.objects.filter(pgh_obj=resulted).order_by("pgh_id")
    assert (events.first().text, events.last().text) == ("Positive", "Negative")
    assert not signature_valid(resulted.sample, resulted.sample.signatures.get().content_sha256)
    report = pdf_text(client.get("/samples/S-000401/report.pdf").content)
    assert "HIV corrected from Positive to Negative, flag A → none" in report
    assert "NO LONGER VALID" in report


def test_the_report_prints_the_answer_and_a_long_one_fits_its_cell(lab, signed_in, db):
    long_answer = "Reactive, confirmation by immunoblot pending (2nd specimen asked"
    assert len(long_answer) == 64
    make_qualitative(
        "SYPH",
        answers=[
            {"text": "Non-reactive", "abnormal": False},
            {"text": long_answer, "abnormal": True},
        ],
    )
    running(lab, "S-000403", "SYPH")
    lab.post("S-000403", long_answer.upper(), assay="SYPH")
    lab.verify("S-000403")
    report = pdf_text(signed_in(lab.technician).get("/samples/S-000403/report.pdf").content)
    assert long_answer in report and "SYPH" in report


def test_the_custody_dossier_holds_the_answer(lab, resulted, signed_in):
    response = signed_in(lab.reviewer).get("/samples/S-000401/custody.json")
    dossier = json.loads(response.content)["dossier"]
    [result] = dossier["results"]
    assert (result["value"], result["answer"]) == (None, "Positive")


def test_the_audit_trail_says_the_answer_recorded(lab, resulted):
    said = [e.what for e in audit_entries(AuditFilter(sample="S-000401"))]
    assert any(what.startswith("Result Positive") for what in said), said


def test_the_assay_list_shows_the_answers_and_which_are_abnormal(lab, hiv, signed_in):
    page = signed_in(lab.technician).get("/assays/").content.decode()
    assert "Answers: Negative, Positive (abnormal), Indeterminate (abnormal)" in page
