"""Recording a qualitative assay's result: the text sent is matched to one of its answers
(whatever its case and blanks) and kept in the answer's own spelling; anything else, a number
included, is refused naming the accepted answers, and a text sent for a quantitative assay is
refused too. Nothing refused is recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from samples import services
from samples.errors import LabError
from samples.models import Result, Sample
from samples.services.recording import Incoming, results_record
from tests.samples.qualitative import make_qualitative, running


@pytest.fixture
def hiv(db):
    return make_qualitative()


def post(lab, barcode, value, assay="HIV"):
    return services.result_record(
        barcode=barcode, assay_code=assay, value=value, instrument=lab.instrument
    )


def refusal(lab, barcode, value, assay="HIV") -> LabError:
    with pytest.raises(LabError) as refused:
        post(lab, barcode, value, assay)
    assert refused.value.field == "value"
    assert not Result.objects.filter(sample__barcode=barcode).exists()
    return refused.value


@pytest.mark.parametrize("sent", ["Positive", "positive", "  POSITIVE\t", "pOsItIvE\n"])
def test_an_answer_is_matched_whatever_its_case_and_blanks_and_stored_as_spelled(lab, hiv, sent):
    running(lab, "S-000101")
    result = post(lab, "S-000101", sent)
    result.refresh_from_db()
    assert (result.text, result.value, result.units) == ("Positive", None, "")
    assert result.reading == "Positive" and result.shown == "Positive"


def test_inner_blanks_and_unicode_forms_match_too(lab, db):
    make_qualitative(
        "CMV",
        answers=[
            {"text": "Not detected", "abnormal": False},
            {"text": "Détecté", "abnormal": True},
        ],
    )
    running(lab, "S-000102", "CMV")
    running(lab, "S-000103", "CMV")
    assert post(lab, "S-000102", " not   DETECTED ", "CMV").text == "Not detected"
    decomposed = "de\u0301tecte\u0301"  # e + combining acute: NFC makes it "détecté"
    assert post(lab, "S-000103", decomposed, "CMV").text == "Détecté"


def test_answers_in_other_scripts_match_by_their_own_case(lab, db):
    make_qualitative(
        "RPR",
        answers=[
            {"text": "Отрицательный", "abnormal": False},
            {"text": "Положительный", "abnormal": True},
        ],
    )
    running(lab, "S-000104", "RPR")
    assert post(lab, "S-000104", "ПОЛОЖИТЕЛЬНЫЙ", "RPR").text == "Положительный"


def test_a_text_that_is_not_an_answer_is_refused_naming_the_answers(lab, hiv):
    running(lab, "S-000105")
    refused = refusal(lab, "S-000105", "Weakly reactive")
    assert refused.message == (
        "'Weakly reactive' is not an answer of HIV: it takes Negative, Positive or Indeterminate."
    )
    assert Sample.objects.get(barcode="S-000105").state == "in_batch"


def test_a_number_sent_for_a_qualitative_assay_is_refused(lab, hiv):
    running(lab, "S-000106")
    for number in ("1", "0.5", Decimal("2"), 3):
        refused = refusal(lab, "S-000106", number)
        assert refused.message == (
            "HIV is qualitative: it takes Negative, Positive or Indeterminate, not a number."
        )


def test_an_answer_that_reads_as_a_number_is_taken_as_the_answer(lab, db):
    make_qualitative(
        "UPRO", answers=[{"text": "0", "abnormal": False}, {"text": "1+", "abnormal": True}]
    )
    running(lab, "S-000107", "UPRO")
    assert post(lab, "S-000107", " 0 ", "UPRO").text == "0"


def test_a_text_sent_for_a_quantitative_assay_is_refused(lab):
    lab.register("S-000108")
    lab.receive("S-000108")
    lab.to_batch("S-000108")
    lab.close_batches()
    lab.start_run()
    refused = refusal(lab, "S-000108", "Positive", assay="GLU")
    assert refused.message.startswith("'Positive' is not a number. GLU takes a number (mmol/L)")
    assert post(lab, "S-000108", "5.1", "GLU").value == Decimal("5.1")


def test_hostile_texts_are_refused_quoted_short_and_change_nothing(lab, hiv):
    running(lab, "S-000109")
    long = "Positive" * 5_000
    refused = refusal(lab, "S-000109", long)
    assert len(refused.message) < 200 and "…" in refused.message
    for odd in ("Posit\u200bive", "\u202ePositive", "Positive\x1b[31m", "🧪", "陽性", ""):
        refused = refusal(lab, "S-000109", odd)
        assert "is not an answer of HIV" in refused.message, odd
    # A control character is quoted escaped, never printed raw.
    assert "\\x1b" in refusal(lab, "S-000109", "Positive\x1b[31m").message


def test_one_message_records_answers_and_refuses_the_others_item_by_item(lab, hiv):
    running(lab, "S-000110")
    running(lab, "S-000111")
    outcomes = results_record(
        [Incoming("S-000110", "HIV", "negative"), Incoming("S-000111", "HIV", "maybe")],
        instrument=lab.instrument,
    )
    assert isinstance(outcomes[0], Result) and outcomes[0].text == "Negative"
    assert isinstance(outcomes[1], LabError) and outcomes[1].field == "value"


def test_the_database_holds_a_result_to_exactly_one_of_a_number_and_an_answer(lab, hiv):
    running(lab, "S-000112")
    result = post(lab, "S-000112", "Negative")
    for value, text in ((Decimal("1"), "Negative"), (None, None)):
        with pytest.raises(IntegrityError), transaction.atomic():
            Result.objects.filter(pk=result.pk).update(value=value, text=text)
    result.refresh_from_db()
    assert (result.value, result.text) == (None, "Negative")


def test_a_technician_enters_an_answer_by_hand(lab, hiv):
    running(lab, "S-000113")
    result = services.result_record(
        barcode="S-000113", assay_code="HIV", value=" indeterminate ",
        user=lab.technician, reason="analyser down",
    )  # fmt: skip
    assert result.text == "Indeterminate" and result.entered_by == lab.technician
