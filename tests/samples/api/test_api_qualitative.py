"""The JSON door and a qualitative assay: ``value`` may be an answer's text; the service decides
by the assay (an answer recorded in its own spelling, anything else refused with 400 naming the
answers, nothing recorded); junk that is no number and no text is refused by the shape check.
The sample's results read back with ``value`` the answer and ``kind`` qualitative."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from samples.models import InstrumentMessage, Result, UnmatchedResult
from samples.services.tokens import api_token_create
from tests.samples.qualitative import make_qualitative, running


@pytest.fixture
def waiting(lab):
    make_qualitative()
    running(lab, "S-000301")
    return "S-000301"


@pytest.fixture
def instrument_api(lab):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(owner=lab.instrument.service_user)}"
    )
    return client


def post(client, body):
    return client.post("/api/v1/results/", json.dumps(body), content_type="application/json")


def test_an_answer_is_recorded_in_its_own_spelling_and_read_back(lab, waiting, instrument_api):
    response = post(instrument_api, {"sample": waiting, "assay": "HIV", "value": " positive "})
    assert response.status_code == 201, response.json()
    assert response.json()["accepted"][0]["value"] == "Positive"
    assert Result.objects.get().text == "Positive"


def test_an_answer_reads_back_from_the_sample_with_its_kind(lab, waiting, signed_in):
    lab.post(waiting, "positive", assay="HIV")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(owner=lab.reviewer)}")
    results = client.get(f"/api/v1/samples/{waiting}/").json()["results"]
    assert [(r["kind"], r["value"], r["units"], r["interpretation"]) for r in results] == [
        ("qualitative", "Positive", "", "A")
    ]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("Weakly reactive", "'Weakly reactive' is not an answer of HIV: it takes Negative, "
         "Positive or Indeterminate."),
        ("1.5", "HIV is qualitative: it takes Negative, Positive or Indeterminate, not a number."),
        (2, "HIV is qualitative: it takes Negative, Positive or Indeterminate, not a number."),
        ("Ⅳ" * 150, "is not an answer of HIV"),
    ],
)  # fmt: skip
def test_a_value_that_is_no_answer_gets_400_naming_the_answers_and_records_nothing(
    lab, waiting, instrument_api, value, says
):
    response = post(instrument_api, {"sample": waiting, "assay": "HIV", "value": value})
    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert error["field"] == "value" and says in error["error"]
    assert len(error["error"]) < 200  # a long text is quoted cut short
    assert not Result.objects.exists()
    assert InstrumentMessage.objects.get().status_code == 400


@pytest.mark.parametrize(
    "junk", [["Positive"], {"text": "Positive"}, True, None, "P" * 201, "4.9.1", "   "]
)
def test_junk_that_is_no_number_and_no_text_is_refused_by_the_shape_check(
    lab, waiting, instrument_api, junk
):
    response = post(instrument_api, {"sample": waiting, "assay": "HIV", "value": junk})
    assert response.status_code == 400 and "value" in response.json(), response.json()
    assert not Result.objects.exists()


def test_a_text_for_a_quantitative_assay_gets_400(lab, waiting, instrument_api):
    lab.register("S-000302")
    lab.receive("S-000302")
    lab.to_batch("S-000302")
    lab.close_batches()
    lab.start_run()
    response = post(instrument_api, {"sample": "S-000302", "assay": "GLU", "value": "Positive"})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "value"
    assert error["error"].startswith("'Positive' is not a number. GLU takes a number")
    assert not Result.objects.exists()


@pytest.mark.parametrize(
    ("obx", "recorded"),
    [
        ("OBX|1|ST|HIV^HIV 1/2 Ag/Ab||POSITIVE||||||F", "Positive"),
        ("OBX|1|CWE|HIV^HIV 1/2 Ag/Ab||NEG^Negative^L||||||F", "Negative"),
    ],
)
def test_the_hl7_door_records_an_st_or_cwe_answer_of_a_qualitative_assay(
    lab, waiting, instrument_api, obx, recorded
):
    body = "\r".join(
        [
            "MSH|^~\\&|MW-SERO|LAB|LABTRACK|LAB|20261206100000||ORU^R01^ORU_R01|SERO-1|P|2.5.1",
            f"OBR|1||{waiting}|SERO",
            obx,
            "",
        ]
    )
    response = instrument_api.post("/api/v1/hl7/", body, content_type="x-application/hl7-v2+er7")
    assert "MSA|AA|SERO-1|Recorded 1 result." in response.content.decode()
    assert Result.objects.get().text == recorded


def test_an_hl7_text_that_is_no_answer_is_kept_for_a_person(lab, waiting, instrument_api):
    body = "\r".join(
        [
            "MSH|^~\\&|MW-SERO|LAB|LABTRACK|LAB|20261206100000||ORU^R01^ORU_R01|SERO-2|P|2.5.1",
            f"OBR|1||{waiting}|SERO",
            "OBX|1|ST|HIV||Weakly reactive||||||F",
            "",
        ]
    )
    ack = instrument_api.post("/api/v1/hl7/", body, content_type="x-application/hl7-v2+er7")
    assert "MSA|AA|SERO-2|Recorded 0 results." in ack.content.decode()
    kept = UnmatchedResult.objects.get()
    assert (
        "not an answer of HIV" in kept.why
        and kept.segment == "OBX|1|ST|HIV||Weakly reactive||||||F"
    )
