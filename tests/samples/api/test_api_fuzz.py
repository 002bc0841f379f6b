"""The API against its own OpenAPI schema: every operation under ``/api/v1/`` is called with
generated requests, valid and malformed, with an instrument's token and a technician's, on a
lab holding samples, a running batch and a result. No answer may be a 5xx, and every answer
must be documented: its status code, its content type and its body's shape.

Bounded and reproducible: a fixed number of examples per operation, derandomized."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from samples import services
from samples.services.tokens import api_token_create

# The HL7 endpoint is left out: its body is HL7 v2 text and its answer an HL7 ACK, which no
# JSON schema describes; tests/samples/api/test_api_hl7.py covers it.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application()).exclude(
    path="/api/v1/hl7/"
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

# What the lab holds, for the generated paths to name now and then (see the hook below).
KNOWN: dict[str, list[object]] = {"barcode": [], "id": []}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the time, a path names a sample or batch that exists, so the 200 answers of the
    detail endpoints are checked too (a random barcode is almost never registered)."""
    known = {name: KNOWN[name] for name in path_parameters or {} if KNOWN.get(name)}
    if not known:
        return st.just(path_parameters)
    real = st.fixed_dictionaries({name: st.sampled_from(values) for name, values in known.items()})
    return st.one_of(st.just(path_parameters), real.map(lambda r: {**path_parameters, **r}))


@pytest.fixture
def same_connection():
    """Keep the test's database connection across requests, as Django's test client does: the
    WSGI handler would otherwise close it at the end of each request (and the test's
    transaction with it)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def stocked(lab, same_connection):
    """Samples in several states: registered, received, in a running batch with a result."""
    lab.register("S-000701")
    lab.register("S-000702")
    lab.receive("S-000702")
    lab.register("S-000703")
    lab.receive("S-000703")
    lab.to_batch("S-000703")
    lab.close_batches()
    batch = lab.start_run()
    lab.post("S-000703", "6.1")
    item = {"sample": "S-000799", "assay": "GLU", "value": "4.8", "units": "", "flags": []}
    receipt = services.results_receive(  # an entry of the unmatched inbox
        client=lab.instrument.service_user, items=[item], raw_body=json.dumps(item).encode(),
        content_type="application/json", idempotency_key=None,
    )  # fmt: skip
    assert receipt.status == 202
    KNOWN["barcode"] = ["S-000701", "S-000702", "S-000703"]
    KNOWN["id"] = [batch.pk]
    yield lab
    KNOWN["barcode"], KNOWN["id"] = [], []


@pytest.fixture
def tokens(stocked):
    """A token for each kind of client, used on the endpoints that client may call."""
    instrument = api_token_create(owner=stocked.instrument.service_user)
    technician = api_token_create(owner=stocked.technician)
    return {
        "results": instrument,
        "batches": instrument,
        "samples": technician,
        "inbox": technician,
    }


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_documented_and_never_with_a_5xx(case, tokens):
    token = tokens[case.operation.path.split("/")[3]]  # /api/v1/<what>/...
    # The checks above raise on a 5xx or an answer the schema does not describe.
    response = case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
    assert response.status_code < 500


# Hostile bytes and structure, which a schema cannot describe: strings holding NUL, lone
# surrogates, other scripts' digits and control characters, anywhere in a body, a filter, a
# path or a header; bodies in UTF-16, UTF-32 or Latin-1, declared or not; JSON nested
# thousands of levels deep. Each answer must be a 4xx or a success, never a 5xx.
HOSTILE = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(codec=None), max_size=8),  # lone surrogates included
    st.sampled_from(
        ["\x00", "S-0\x00", "\ud800", "GLU\udfff", "²", "١٢", "1_000", "\u202e", "\ufeff",
         "'; DROP TABLE samples_sample; --", "<b>", "%00", "\r\n", "9" * 300, "NaN", "-0"]
    ),
)  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | HOSTILE,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE, inner, max_size=3),
    max_leaves=8,
)
RESULT_FIELDS = ("sample", "assay", "value", "units", "flags", "run_id", "measured_at")
SAMPLE_FIELDS = ("barcode", "specimen_type", "subject_ref", "collected_at", "priority", "assays")


def hostile_object(fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, object]]:
    return st.dictionaries(st.sampled_from(fields) | HOSTILE, JSON, max_size=len(fields))


def deep(depth: int, inner: object) -> str:
    return "[" * depth + json.dumps(inner) + "]" * depth


@st.composite
def hostile_bodies(draw: st.DrawFn, fields: tuple[str, ...]) -> tuple[bytes, str]:
    """A JSON body, hostile in its values, its depth or its bytes, and its Content-Type."""
    value = draw(hostile_object(fields) | st.lists(hostile_object(fields), max_size=3))
    text = draw(
        st.one_of(
            st.just(json.dumps(value)),
            st.builds(deep, st.integers(1, 3000), st.just(value)),
            st.just(json.dumps(value, ensure_ascii=False)),
        )
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-16-be", "utf-32", "latin-1"]))
    charset = draw(st.sampled_from(["", "; charset=utf-8", "; charset=UTF-16", "; charset=x"]))
    return text.encode(encoding, "surrogatepass" if "utf" in encoding else "replace"), charset


def url_text(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


FUZZ_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def hostile_clients(stocked):
    def client(owner):
        api = APIClient()
        api.raise_request_exception = False
        api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(owner=owner)}")
        return api

    return {
        "/api/v1/results/": client(stocked.instrument.service_user),
        "/api/v1/samples/": client(stocked.technician),
    }


@FUZZ_SETTINGS
@given(
    url=st.sampled_from(["/api/v1/results/", "/api/v1/samples/"]),
    body=st.data(),
    key=st.none() | HOSTILE,
)
def test_hostile_json_bodies_never_get_a_5xx(hostile_clients, url, body, key):
    fields = RESULT_FIELDS if "results" in url else SAMPLE_FIELDS
    raw, charset = body.draw(hostile_bodies(fields))
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    answer = hostile_clients[url].generic(
        "POST", url, raw, content_type=f"application/json{charset}", **headers
    )
    assert answer.status_code < 500, answer.content[:500]


@FUZZ_SETTINGS
@given(
    path=st.sampled_from(["samples/", "samples/{}/", "samples/{}/history/", "batches/", "inbox/"]),
    text=HOSTILE,
    filters=st.dictionaries(
        st.sampled_from(
            [
                "state",
                "assay",
                "received_after",
                "released_before",
                "cursor",
                "status",
                "instrument",
                "since",
            ]
        ),
        HOSTILE | st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
        max_size=3,
    ),
)
def test_hostile_paths_and_filters_never_get_a_5xx(hostile_clients, path, text, filters):
    query = "&".join(f"{name}={url_text(value)}" for name, value in filters.items())
    url = "/api/v1/" + path.format(url_text(text)) + "?" + query
    answer = hostile_clients["/api/v1/samples/"].get(url)
    assert answer.status_code < 500, (url, answer.content[:500])


# HL7 v2 messages built segment by segment, each field sometimes hostile: separators and
# encoding characters of any kind, NUL, escapes, stray segment ends, broken timestamps.
HL7_NOISE = st.text(st.characters(codec=None) | st.sampled_from("|^~\\&#\r\n\x00"), max_size=10)


def hl7_field(*usual: str) -> st.SearchStrategy[str]:
    return st.sampled_from(usual) | HL7_NOISE if usual else HL7_NOISE


@st.composite
def hl7_messages(draw: st.DrawFn) -> str:
    bar = draw(st.just("|") | st.characters(codec=None))
    encoding = draw(st.just("^~\\&") | st.just("^~\\&#") | HL7_NOISE)
    stamp = hl7_field("20261125100500", "20261125100500+0000", "2026", "99999999999999")
    msh = [
        "MSH" + bar + encoding,
        draw(hl7_field("MW-CHEM")),
        "LAB",
        draw(hl7_field("LABTRACK")),
        "LAB",
        draw(stamp),
        "",
        draw(hl7_field("ORU^R01", "ORU^R01^ORU_R01", "ADT^A01", "ORU")),
        draw(hl7_field("MW-1", "")),
        draw(hl7_field("P", "T")),
        draw(hl7_field("2.5.1", "2.3", "9.9")),
    ]
    obr = ["OBR", "1", "", draw(hl7_field("S-000703", "")), "CHEM", "", "", draw(stamp)]
    segments = [bar.join(msh), bar.join(["PID", "1", "", draw(hl7_field("SUBJ-1"))])]
    segments.append(bar.join(obr))
    for number in range(1, draw(st.integers(0, 3)) + 1):
        obx = [
            "OBX",
            str(number),
            draw(hl7_field("NM", "SN", "ST", "")),
            draw(hl7_field("GLU^Glucose", "")),
            "",
            draw(hl7_field("6.1", "^6.1", ">^5", "", "1e999")),
            draw(hl7_field("mmol/L")),
            "",
            draw(hl7_field("H", "H~L", "")),
            "",
            "",
            draw(hl7_field("F", "P", "")),
            "",
            "",
            draw(stamp),
        ]
        segments.append(bar.join(obx))
    order = draw(st.permutations(segments)) if draw(st.booleans()) else segments
    end = draw(st.sampled_from(["\r", "\n", "\r\n"]))
    return end.join(order) + end


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(message=hl7_messages(), charset=st.sampled_from(["", "; charset=utf-8", "; charset=x"]))
def test_hostile_hl7_messages_get_an_ack_and_never_a_5xx(hostile_clients, message, charset):
    client = hostile_clients["/api/v1/results/"]  # the instrument's
    answer = client.generic(
        "POST",
        "/api/v1/hl7/",
        message.encode("utf-8", "surrogatepass"),
        content_type=f"x-application/hl7-v2+er7{charset}",
    )
    assert answer.status_code in (200, 413), answer.content[:500]
    ack = answer.content.decode("utf-8", "replace")
    assert ack.startswith("MSH") and re.search(r"\rMSA.A[AER].", ack), answer.content[:500]
