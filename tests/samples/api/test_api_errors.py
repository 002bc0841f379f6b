"""Every refusal of the API is a JSON 4xx naming the problem: an oversized body, a body that is
not JSON, a path that matches nothing, a malformed item of a list, a filter out of range, a list
of results too short or too long, a service's refusal (``LabError``, ``NotAllowed``)."""

from __future__ import annotations

import json

import pytest

from samples.api.errors import api_exception_handler
from samples.errors import LabError, NotAllowed
from samples.models import InstrumentMessage, Sample
from tests.samples.lab import api_for


@pytest.fixture
def instrument_api(instrument):
    return api_for(instrument.service_user)


@pytest.fixture
def technician_api(technician):
    return api_for(technician)


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_an_oversized_body_gets_413_with_a_json_reason_and_records_nothing(
    instrument_api, technician_api, settings
):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    results = [{"sample": f"S-{i:06}", "assay": "GLU", "value": "5"} for i in range(100)]
    answer = post_json(instrument_api, "/api/v1/results/", results)
    assert answer.status_code == 413
    assert "larger than the 2000 bytes allowed" in answer.json()["detail"]
    body = {"barcode": "S-000001", "specimen_type": "serum", "subject_ref": "x" * 3000}
    answer = post_json(technician_api, "/api/v1/samples/", body)
    assert answer.status_code == 413 and answer.json()["detail"]
    assert not InstrumentMessage.objects.exists() and not Sample.objects.exists()


def test_a_body_that_is_not_json_gets_415_and_malformed_json_400(instrument_api):
    form = instrument_api.post("/api/v1/results/", {"sample": "S-000001"}, format="multipart")
    assert form.status_code == 415 and "Unsupported media type" in form.json()["detail"]
    broken = instrument_api.post("/api/v1/results/", "[{", content_type="application/json")
    assert broken.status_code == 400 and "JSON parse error" in broken.json()["detail"]


def test_each_bad_item_of_a_list_is_named_by_its_position_and_field(instrument_api):
    answer = post_json(
        instrument_api,
        "/api/v1/results/",
        [
            {"sample": "S-000001", "assay": "GLU", "value": "5"},
            {"sample": "S-000002", "assay": "GLU", "value": "4.9.1", "flags": ["H", ""]},
        ],
    )
    assert answer.status_code == 400
    assert set(answer.json()) == {"1.value", "1.flags.1"}
    assert answer.json()["1.value"] == [
        "'4.9.1' is not a number. Write digits 0 to 9 with at most one decimal point, like 4.9 "
        "or -0.5 (no exponent, no thousands separator, no other digits than 0 to 9)."
    ]


def test_a_path_under_the_api_that_matches_nothing_gets_a_json_404(instrument_api):
    for path in ("/api/v1/nothing/", "/api/v1/batches/seven/"):
        answer = instrument_api.get(path)
        assert answer.status_code == 404 and answer["Content-Type"] == "application/json"
        assert answer.json() == {"detail": "There is nothing at this address."}


def test_a_time_filter_postgresql_cannot_hold_or_no_calendar_has_gets_400_not_500(
    technician_api,
):
    far_offset = technician_api.get("/api/v1/samples/?received_after=1366-06-26T04:49:48%2B17:21")
    assert far_offset.status_code == 200  # compared in UTC
    for moment in ("2026-02-30T10:00:00Z", "9999-12-31T23:59:59-01:00", ""):
        answer = technician_api.get("/api/v1/samples/", {"received_before": moment})
        assert answer.status_code == 400, moment
        assert answer.json() == {"received_before": ["Not an ISO 8601 date and time."]}


def test_an_empty_list_or_a_long_idempotency_key_is_named_in_a_400(instrument_api):
    empty = post_json(instrument_api, "/api/v1/results/", [])
    assert empty.status_code == 400
    assert empty.json() == {"non_field_errors": ["Send 1 to 500 results at a time."]}
    item = {"sample": "S-000001", "assay": "GLU", "value": "5"}
    long_key = instrument_api.post(
        "/api/v1/results/",
        json.dumps(item),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k" * 201,
    )
    assert long_key.status_code == 400
    assert long_key.json() == {"Idempotency-Key": ["At most 200 characters."]}
    # Both kept as received with their refusal; neither claims a key.
    kept = InstrumentMessage.objects.order_by("pk")
    assert [(m.status_code, m.idempotency_key, m.control_id) for m in kept] == [
        (400, None, ""),
        (400, None, "k" * 200),
    ]


@pytest.mark.parametrize(
    ("refusal", "status", "body"),
    [
        (
            LabError("S-1 is already registered.", field="barcode"),
            400,
            {"barcode": ["S-1 is already registered."]},
        ),
        (LabError("Not now."), 400, {"non_field_errors": ["Not now."]}),
        (
            NotAllowed("Only a technician may do this."),
            403,
            {"detail": "Only a technician may do this."},
        ),
    ],
)
def test_a_services_refusal_is_a_400_naming_its_field_or_a_403_for_the_role(refusal, status, body):
    answer = api_exception_handler(refusal, {})
    assert (answer.status_code, answer.data) == (status, body)
