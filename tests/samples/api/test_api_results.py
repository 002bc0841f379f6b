"""``POST /api/v1/results/``: instruments post results; each is recorded once, matched to the
sample waiting for it, or kept in the unmatched inbox; malformed bodies get a 4xx naming the
field, and change nothing."""

from __future__ import annotations

import hashlib
import json

import pytest
from rest_framework.test import APIClient

from samples.models import InstrumentMessage, Result, UnmatchedResult
from samples.services.tokens import api_token_create


def api(token=None):
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def instrument_api(lab):
    return api(api_token_create(owner=lab.instrument.service_user))


def post(client, body, **headers):
    return client.post(
        "/api/v1/results/", json.dumps(body), content_type="application/json", **headers
    )


def test_a_result_for_a_waiting_sample_is_recorded_and_the_raw_message_kept(
    lab, running, instrument_api
):
    body = {
        "sample": running,
        "assay": "GLU",
        "value": "6.1",
        "units": "mmol/L",
        "flags": ["H"],
        "run_id": "R-1",
    }
    response = post(instrument_api, body)
    assert response.status_code == 201, response.json()
    assert response.json()["accepted"][0]["value"] == "6.1"
    lab.env.run_until_idle()
    assert lab.state(running) == "resulted"
    result = Result.objects.get()
    assert result.instrument == lab.instrument and result.flags == ["H"]
    assert json.loads(result.message.body) == body  # stored, linked to its result
    assert bytes(result.message.raw) == json.dumps(body).encode()  # as the bytes received


def test_a_repeated_run_or_idempotency_key_records_nothing_new(lab, running, instrument_api):
    body = {"sample": running, "assay": "GLU", "value": "6.1", "run_id": "R-1"}
    first = post(instrument_api, body)
    again = post(instrument_api, body)
    assert again.status_code == 201 and again.json()["accepted"][0]["repeated"] is True
    keyed = post(instrument_api, body, HTTP_IDEMPOTENCY_KEY="k-1")
    replay = post(instrument_api, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.json()["replayed"] is True
    assert replay.json()["accepted"] == keyed.json()["accepted"]
    assert Result.objects.count() == 1
    assert first.json()["accepted"][0]["result"] == Result.objects.get().pk


def test_a_result_matching_no_waiting_sample_goes_to_the_inbox_with_202(
    lab, running, instrument_api
):
    response = post(
        instrument_api,
        [
            {"sample": running, "assay": "GLU", "value": "5"},
            {"sample": "S-404404", "assay": "GLU", "value": "5"},
            {"sample": running, "assay": "NA", "value": "140"},
        ],
    )
    assert response.status_code == 202
    answer = response.json()
    assert len(answer["accepted"]) == 1
    assert [u["sample"] for u in answer["unmatched"]] == ["S-404404", running]
    assert UnmatchedResult.objects.count() == 2  # kept, never dropped
    assert "Unknown barcode S-404404" in UnmatchedResult.objects.first().why


def test_malformed_items_get_400_naming_the_field_and_change_nothing(lab, running, instrument_api):
    for body, field in (
        ({"sample": running, "assay": "GLU", "value": "4.9.1"}, "value"),
        ({"assay": "GLU", "value": "5"}, "sample"),
        ({"sample": running, "assay": "GLU", "value": "5", "flags": "H"}, "flags"),
        ({"sample": running, "assay": "GLU", "value": "5", "measured_at": "noon"}, "measured_at"),
    ):
        response = post(instrument_api, body)
        assert response.status_code == 400 and field in response.json(), (body, response.json())
    units = post(instrument_api, {"sample": running, "assay": "GLU", "value": "5", "units": "g"})
    assert units.status_code == 400 and units.json()["errors"][0]["field"] == "units"
    # A text is an answer for a qualitative assay: GLU takes a number, so it is refused.
    text = post(instrument_api, {"sample": running, "assay": "GLU", "value": "five"})
    assert text.status_code == 400 and text.json()["errors"][0]["field"] == "value"
    assert "'five' is not a number. GLU takes a number" in text.json()["errors"][0]["error"]
    assert post(instrument_api, []).status_code == 400
    not_json = instrument_api.post("/api/v1/results/", "{nope", content_type="application/json")
    assert not_json.status_code == 400
    assert not Result.objects.exists() and not UnmatchedResult.objects.exists()
    # Each refused message is kept as received, with its answer, claiming no key.
    kept = InstrumentMessage.objects.order_by("pk")
    assert [m.status_code for m in kept] == [400] * 8
    assert bytes(kept.last().raw) == b"{nope" and "detail" in kept.last().answer
    assert not kept.filter(idempotency_key__isnull=False).exists()


def test_without_a_valid_token_401_and_with_a_user_token_403(lab, running):
    body = {"sample": running, "assay": "GLU", "value": "5"}
    assert post(api(), body).status_code == 401
    assert post(api("not-a-token"), body).status_code == 401
    assert post(api(api_token_create(owner=lab.technician)), body).status_code == 403
    assert not Result.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_posts_of_one_result_record_it_once(lab, running, instrument_api):
    import threading

    from django.db import connection

    body = {"sample": running, "assay": "GLU", "value": "6.1", "run_id": "R-7"}
    token = instrument_api._credentials["HTTP_AUTHORIZATION"]
    barrier, answers = threading.Barrier(50), []

    def send():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        try:
            barrier.wait()
            response = post(client, body)
            answers.append((response.status_code, response.json()["accepted"][0]["result"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Result.objects.count() == 1
    assert answers == [(201, Result.objects.get().pk)] * 50


def test_a_body_is_kept_as_the_bytes_received_with_their_sha256(lab, running, instrument_api):
    """The bytes are kept as they came (their spacing and order too), with their SHA-256."""
    body = (
        f'{{ "run_id" : "Lauf-Größe-1",\r\n  "value":"6.1", "assay":"GLU", "sample":"{running}" }}'
    ).encode()
    response = instrument_api.post("/api/v1/results/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    stored = InstrumentMessage.objects.get()
    assert bytes(stored.raw) == body and stored.sha256 == hashlib.sha256(body).hexdigest()
    assert json.loads(stored.body)["run_id"] == "Lauf-Größe-1"
    assert Result.objects.get().instrument_run_id == "Lauf-Größe-1"


def test_a_latin1_body_is_refused_and_nothing_recorded(lab, running, instrument_api):
    """JSON between systems is UTF-8 (RFC 8259): a body that says it is Latin-1 is refused
    with a clear answer, before anything is read from it."""
    body = json.dumps(
        {"sample": running, "assay": "GLU", "value": "6.1", "run_id": "Lauf-Größe-1"},
        ensure_ascii=False,
    ).encode("latin-1")
    response = instrument_api.post(
        "/api/v1/results/", body, content_type="application/json; charset=iso-8859-1"
    )
    assert response.status_code == 415, response.content
    assert "UTF-8" in response.json()["detail"]
    assert not Result.objects.exists()


def test_a_key_reused_with_another_body_is_a_conflict_kept_and_nothing_recorded(
    lab, running, instrument_api, signed_in
):
    lab.register("S-000952")
    first = post(
        instrument_api,
        {"sample": "S-000952", "assay": "GLU", "value": "5"},
        HTTP_IDEMPOTENCY_KEY="K-1",
    )
    assert first.status_code == 202  # S-000952 is not in a batch: kept in the inbox
    other = {"sample": running, "assay": "GLU", "value": "6.1"}
    conflict = post(instrument_api, other, HTTP_IDEMPOTENCY_KEY="K-1")
    assert conflict.status_code == 409
    assert "K-1 was used before with other content" in conflict.json()["detail"]
    assert not Result.objects.exists() and UnmatchedResult.objects.count() == 1
    kept = InstrumentMessage.objects.get(conflicts_with__isnull=False)
    assert kept.conflicts_with.pk == conflict.json()["first_message"]
    assert kept.control_id == "K-1" and kept.idempotency_key is None
    assert json.loads(bytes(kept.raw)) == other and kept.status_code == 409
    # The first key still answers its own body with its first answer.
    again = post(
        instrument_api,
        {"sample": "S-000952", "assay": "GLU", "value": "5"},
        HTTP_IDEMPOTENCY_KEY="K-1",
    )
    assert again.status_code == 202 and again.json()["replayed"] is True
    # Shown to a person on the inbox page, with the message it conflicts with.
    page = signed_in(lab.technician).get("/inbox/").content.decode()
    assert f'id="message-{kept.pk}"' in page and "used before with other content" in page


def test_a_refused_body_claims_no_key_and_is_read_again_when_corrected(
    lab, running, instrument_api
):
    refused = post(
        instrument_api,
        {"sample": running, "assay": "GLU", "value": "five"},
        HTTP_IDEMPOTENCY_KEY="K-2",
    )
    assert refused.status_code == 400
    corrected = post(
        instrument_api,
        {"sample": running, "assay": "GLU", "value": "5"},
        HTTP_IDEMPOTENCY_KEY="K-2",
    )
    assert corrected.status_code == 201 and Result.objects.get().value == 5
    kept = InstrumentMessage.objects.order_by("pk")
    assert [(m.status_code, m.idempotency_key) for m in kept] == [(400, None), (201, "K-2")]
