"""A sample's chain-of-custody dossier: every lifecycle event with its actor, the changes of its
records, signatures, the raw instrument messages, retests, and the check of its hash chains."""

from __future__ import annotations

import hashlib
import json

import pytest
from rest_framework.test import APIClient

from samples.models import Result
from samples.services.tokens import api_token_create
from tests.pdf import pdf_text


@pytest.fixture
def released(lab):
    lab.register("S-000901")
    lab.receive("S-000901")
    lab.to_batch("S-000901")
    lab.close_batches()
    lab.start_run()
    api = APIClient()
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(owner=lab.instrument.service_user)}"
    )
    body = {"sample": "S-000901", "assay": "GLU", "value": "5.1", "run_id": "R-9"}
    assert api.post("/api/v1/results/", body, format="json").status_code == 201
    lab.env.run_until_idle()
    lab.verify("S-000901")
    lab.env.run_until_idle()
    return "S-000901"


def get_json(client):
    response = client.get("/samples/S-000901/custody.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('custody-S-000901.json"')
    return json.loads(response.content)


def test_the_dossier_holds_every_event_actor_signature_and_message(lab, released, signed_in):
    document = get_json(signed_in(lab.reviewer))
    content = document["dossier"]
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
    assert (
        document["manifest"]["sha256_of_dossier"] == hashlib.sha256(canonical.encode()).hexdigest()
    )
    kinds = [e["kind"] for e in content["lifecycle"]]
    assert kinds[0] == "run_started" and kinds[-1] == "run_completed"
    actors = {e["actor"] for e in content["lifecycle"]}
    assert {"tess", "instrument-cobas-1", "ravi"} <= actors  # the instrument's identity
    who = {e["who"] for e in content["lifecycle"]}
    assert {"tess", "instrument Cobas-1", "ravi"} <= who
    assert [s["valid"] for s in content["signatures"]] == [True]
    [message] = content["instrument_messages"]
    assert json.loads(message["body"])["run_id"] == "R-9"
    assert {c["record"] for c in content["changes"]} >= {"sample", "result", "signature"}
    assert content["verification"]["intact"] is True


@pytest.mark.django_db(transaction=True)
def test_a_tampered_result_event_shows_in_the_dossier_check(
    lab, released, signed_in, rewrite_around_triggers
):
    result = Result.objects.get(sample__barcode="S-000901")
    rewrite_around_triggers(
        "samples_resultevent",
        "UPDATE samples_resultevent SET value = 4.4 WHERE pgh_obj_id = %s",
        result.pk,
    )
    check = get_json(signed_in(lab.reviewer))["dossier"]["verification"]
    assert check["intact"] is False
    assert check["findings"][0]["where"].startswith("samples_resultevent row ")


def test_the_pdf_says_the_chains_are_intact(lab, released, signed_in):
    response = signed_in(lab.reviewer).get("/samples/S-000901/custody.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    assert "Hash chains and stored content: intact" in text and "Cobas-1" in text
