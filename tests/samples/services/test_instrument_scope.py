"""An instrument posts only within its scope: the assays it is configured to run, into the
batches whose run was started on it (or on no instrument in particular). Outside it, the result
is refused on the field ``instrument`` at both doors (400 from the JSON one, AE from the HL7
one), and nothing of the message is recorded or kept."""

from __future__ import annotations

import json

import hl7
import pytest
from rest_framework.test import APIClient

from samples import services
from samples.errors import LabError
from samples.models import Batch, BatchStatus, InstrumentMessage, Result, UnmatchedResult
from samples.services.tokens import api_token_create
from tests.samples.lab import make_assay


def api_for(instrument):
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(owner=instrument.service_user)}"
    )
    return client


def post(instrument, barcode="S-000971", assay="GLU"):
    body = [{"sample": barcode, "assay": assay, "value": "5.2", "run_id": "R-1"}]
    return api_for(instrument).post(
        "/api/v1/results/", json.dumps(body), content_type="application/json"
    )


def post_hl7(instrument, barcode="S-000971", assay="GLU"):
    body = "\r".join([
        "MSH|^~\\&|MW|LAB|LABTRACK|LAB|20261125100500||ORU^R01^ORU_R01|C-1|P|2.5.1",
        "PID|1||SUBJ-1",
        f"OBR|1||{barcode}|CHEM",
        f"OBX|1|NM|{assay}||5.2|mmol/L|||||F",
    ]) + "\r"  # fmt: skip
    answer = api_for(instrument).post("/api/v1/hl7/", body, content_type="x-application/hl7-v2+er7")
    assert answer.status_code == 200
    return hl7.parse(answer.content.decode())


def register_second(name="Cobas-2", serial="C311-0002", assays=("GLU",)):
    second, _token = services.instrument_register(
        name=name, model="cobas c 311", serial=serial, assay_codes=list(assays)
    )
    return second


def in_running_batch(lab, barcode="S-000971", *, on=None):
    """``barcode`` waits in a running GLU batch whose run was started on ``on`` (or on no
    instrument in particular)."""
    lab.register(barcode)
    lab.receive(barcode)
    lab.to_batch(barcode)
    lab.close_batches()
    batch = Batch.objects.get(assay__code="GLU", status=BatchStatus.CLOSED)
    services.batch_start_run(
        user=lab.technician, batch_id=batch.pk, instrument_id=on.pk if on else None
    )
    lab.env.run_until_idle()
    return batch


def assert_nothing_recorded():
    """Nothing recorded; each message refused is kept as received with its answer (400)."""
    assert not Result.objects.exists()
    assert not UnmatchedResult.objects.exists()
    assert set(InstrumentMessage.objects.values_list("status_code", flat=True)) == {400}


def assert_kept_for_a_person(ack, said):
    """The HL7 door takes each OBX on its own: one out of scope is kept in the inbox for a
    person (an AA naming it in an ERR warning), never recorded."""
    assert ack.segment("MSA").extract_field(field_num=1) == "AA"
    assert said in str(ack.segment("ERR")) and str(ack.segment("ERR")(4)) == "W"
    assert not Result.objects.exists()
    assert said in UnmatchedResult.objects.get().why


def test_an_instrument_not_configured_for_the_assay_is_refused_with_400(lab):
    in_running_batch(lab)
    stranger = register_second(name="Sysmex-1", serial="XN-1", assays=())
    response = post(stranger)
    assert response.status_code == 400, response.json()
    [error] = response.json()["errors"]
    assert error["field"] == "instrument"
    assert "Sysmex-1 is not configured to run GLU" in error["error"]
    assert_nothing_recorded()


def test_the_hl7_door_keeps_the_result_for_a_person_with_a_warning(lab):
    in_running_batch(lab)
    stranger = register_second(name="Sysmex-1", serial="XN-1", assays=())
    assert_kept_for_a_person(post_hl7(stranger), "Sysmex-1 is not configured to run GLU")


def test_one_result_out_of_scope_refuses_the_whole_message(lab):
    make_assay("CREA", name="Creatinine", units="umol/L")
    lab.register("S-000972", "GLU", "CREA")
    in_running_batch(lab)
    body = [
        {"sample": "S-000971", "assay": "GLU", "value": "5.2"},
        {"sample": "S-000972", "assay": "CREA", "value": "60"},
    ]
    response = api_for(lab.instrument).post(
        "/api/v1/results/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "index": 1,
            "field": "instrument",
            "error": "Cobas-1 is not configured to run CREA: its results of CREA are not "
            "taken until an administrator adds the assay to the instrument.",
        }
    ]
    assert_nothing_recorded()


def test_a_batch_whose_run_is_on_another_instrument_refuses_the_result(lab):
    second = register_second()
    batch = in_running_batch(lab, on=second)
    response = post(lab.instrument)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "instrument"
    assert error["error"] == (
        f"S-000971 waits in GLU batch {batch.pk}, whose run is on Cobas-2, not Cobas-1: only "
        "that instrument reports into it."
    )
    assert_nothing_recorded()
    assert_kept_for_a_person(post_hl7(lab.instrument), "whose run is on Cobas-2")


def test_the_instrument_the_run_was_started_on_records_it(lab):
    second = register_second()
    batch = in_running_batch(lab, on=second)
    response = post(second)
    assert response.status_code == 201, response.json()
    result = Result.objects.get()
    assert (result.instrument, result.batch) == (second, batch)


def test_a_batch_run_on_no_instrument_in_particular_takes_any_that_runs_the_assay(lab):
    second = register_second()
    in_running_batch(lab)
    assert post(second).status_code == 201
    assert Result.objects.get().instrument == second


def test_a_result_entered_by_hand_is_not_bound_to_an_instrument(lab):
    in_running_batch(lab, on=register_second())
    result = services.result_record(
        barcode="S-000971", assay_code="GLU", value="5.2", user=lab.technician,
        reason="analyser down",
    )  # fmt: skip
    assert result.entered_by == lab.technician and result.instrument is None


def test_an_inbox_entry_is_matched_only_within_its_instruments_scope(lab, misread):
    """The misread result came from Cobas-1; once its batch runs on another instrument, matching
    it there is refused and the entry stays open."""
    from samples.models import Sample

    batch = Batch.objects.get(members__sample__barcode="S-000961")
    second = register_second()
    Batch.objects.filter(pk=batch.pk).update(instrument=second)
    with pytest.raises(LabError) as refused:
        services.unmatched_match(
            user=lab.technician, entry_id=misread.pk, barcode="S-000961", reason="misread"
        )
    assert refused.value.field == "instrument"
    misread.refresh_from_db()
    assert misread.resolved_at is None and not Result.objects.exists()
    assert Sample.objects.get(barcode="S-000961").state == "in_batch"
