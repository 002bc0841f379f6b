"""Control results at the instruments' doors: an item (JSON) or an OBX (HL7) whose sample is a
control lot's code is a control result, recorded beside the patient results of the same
message (samples/services/intake.py, hl7_intake.py)."""

from __future__ import annotations

import json

import hl7
import pytest
from rest_framework.test import APIClient

from samples.models import ControlResult, InstrumentMessage, Result, UnmatchedResult
from samples.services.tokens import api_token_create
from tests.samples.quality import history, make_lot, run_with_controls

ACK = "x-application/hl7-v2+er7"


@pytest.fixture
def running(lab):
    """S-000971 waits in a GLU batch whose run started on Cobas-1 with control QC-GLU-1
    (mean 5.0, SD 0.2)."""
    lot = make_lot(lab.instrument)
    batch = run_with_controls(lab, "S-000971")
    return lot, batch


@pytest.fixture
def instrument_api(lab):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(owner=lab.instrument.service_user)}"
    )
    return client


def post_json(client, body, **headers):
    return client.post(
        "/api/v1/results/", json.dumps(body), content_type="application/json", **headers
    )


PATIENT = {"sample": "S-000971", "assay": "GLU", "value": "5.3", "units": "mmol/L"}
CONTROL = {"sample": "QC-GLU-1", "assay": "GLU", "value": "5.1", "units": "mmol/L"}


def test_a_control_beside_a_patient_result_in_one_json_message(running, instrument_api):
    _lot, batch = running
    response = post_json(instrument_api, [PATIENT, CONTROL])
    assert response.status_code == 201, response.content
    answer = response.json()
    assert [a["sample"] for a in answer["accepted"]] == ["S-000971"]
    control = ControlResult.objects.get()
    assert answer["controls"] == [
        {
            "index": 1,
            "control_result": control.pk,
            "control": "QC-GLU-1",
            "assay": "GLU",
            "value": "5.1",
            "units": "mmol/L",
            "batch": batch.pk,
            "verdict": "in_control",
            "rules": [],
            "repeated": False,
        }
    ]
    assert control.message == InstrumentMessage.objects.get()
    assert Result.objects.get().sample.barcode == "S-000971"


def test_a_control_breaking_a_rule_is_answered_with_it(running, instrument_api):
    lot, _batch = running
    history(lot, "5.5")
    answer = post_json(instrument_api, {**CONTROL, "value": "5.45"}).json()
    assert (answer["controls"][0]["verdict"], answer["controls"][0]["rules"]) == (
        "rejected",
        ["1-2s", "2-2s"],
    )


def test_a_refused_control_refuses_the_json_message_and_records_nothing(running, instrument_api):
    response = post_json(instrument_api, [PATIENT, {**CONTROL, "units": "mg/dL"}])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 1, "field": "units", "error": "GLU is reported in mmol/L, not mg/dL."}
    ]
    assert not (ControlResult.objects.exists() or Result.objects.exists())
    assert not UnmatchedResult.objects.exists()


def test_the_same_key_and_body_again_records_the_control_once(running, instrument_api):
    first = post_json(instrument_api, CONTROL, HTTP_IDEMPOTENCY_KEY="K-1")
    again = post_json(instrument_api, CONTROL, HTTP_IDEMPOTENCY_KEY="K-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["replayed"] is True
    assert again.json()["controls"] == first.json()["controls"]
    assert ControlResult.objects.count() == 1


def test_a_second_result_for_the_control_is_refused(running, instrument_api):
    assert post_json(instrument_api, CONTROL).status_code == 201
    response = post_json(instrument_api, {**CONTROL, "value": "5.2"})
    assert response.status_code == 400
    assert "already has its result" in response.json()["errors"][0]["error"]
    assert ControlResult.objects.count() == 1


# HL7 ---------------------------------------------------------------------------------------

MSH = "MSH|^~\\&|MW-CHEM|CORE-LAB|LABTRACK|CORE-LAB|20261125100500+0000||ORU^R01^ORU_R01|{}|P|2.5.1"


def oru(control_obx: str, control_id: str = "MW-QC-1") -> str:
    return (
        "\r".join(
            [
                MSH.format(control_id),
                "PID|1||SUBJ-S-000971^^^LAB^MR",
                "OBR|1||S-000971^MW-CHEM|CHEM^Chemistry panel",
                "OBX|1|NM|GLU^Glucose^L||5.3|mmol/L|3.9-5.6|N|||F",
                "OBR|2||QC-GLU-1^MW-CHEM|QC^Quality control",
                control_obx,
            ]
        )
        + "\r"
    )


def post_hl7(client, body):
    response = client.post("/api/v1/hl7/", body, content_type=ACK)
    assert response.status_code == 200, response.content
    return hl7.parse(response.content.decode())


def errs(ack):
    try:
        return [(str(s(2)), s.extract_field(field_num=3), str(s(4))) for s in ack.segments("ERR")]
    except KeyError:
        return []


def test_a_control_obx_beside_a_patient_obx_in_one_hl7_message(running, instrument_api):
    ack = post_hl7(instrument_api, oru("OBX|1|NM|GLU^Glucose^L||5.1|mmol/L||N|||F"))
    assert ack.segment("MSA").extract_field(field_num=1) == "AA"
    assert ack.segment("MSA").extract_field(field_num=3) == (
        "Recorded 1 result. Recorded 1 control result."
    )
    assert errs(ack) == []
    control = ControlResult.objects.get()
    assert (control.lot.code, str(control.value), control.verdict) == (
        "QC-GLU-1",
        "5.1000",
        "in_control",
    )
    assert control.message == InstrumentMessage.objects.get()
    assert Result.objects.get().sample.barcode == "S-000971"


def test_a_refused_control_obx_is_answered_with_an_err_warning_and_the_rest_recorded(
    running, instrument_api
):
    ack = post_hl7(instrument_api, oru("OBX|1|NM|GLU^Glucose^L||5.1|mg/dL||N|||F"))
    assert ack.segment("MSA").extract_field(field_num=1) == "AA"
    text = ack.segment("MSA").extract_field(field_num=3)
    assert text == (
        "Recorded 1 result. Recorded 0 control results. 1 control result refused: see the "
        "ERR segments."
    )
    assert errs(ack) == [("OBX^2^6", "102", "W")]
    assert "GLU is reported in mmol/L, not mg/dL." in str(ack.segment("ERR"))
    assert Result.objects.count() == 1
    assert not ControlResult.objects.exists()
    assert not UnmatchedResult.objects.exists()  # a control is not a sample's result
    assert InstrumentMessage.objects.get().status_code == 202


def test_an_unreadable_control_obx_is_answered_with_its_problem(running, instrument_api):
    ack = post_hl7(instrument_api, oru("OBX|1|NM|GLU^Glucose^L|||mmol/L||N|||F"))
    assert [(e[0], e[2]) for e in errs(ack)] == [("OBX^2^5", "W")]
    assert "Kept in the unmatched inbox" not in str(ack.segment("ERR"))
    assert not ControlResult.objects.exists() and not UnmatchedResult.objects.exists()
