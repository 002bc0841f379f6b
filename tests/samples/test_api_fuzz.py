"""The API against its own OpenAPI schema: every operation under ``/api/v1/`` is called with
generated requests, valid and malformed, with an instrument's token and a technician's, on a
lab holding samples, a running batch and a result. No answer may be a 5xx, and every answer
must be documented: its status code, its content type and its body's shape.

Bounded and reproducible: a fixed number of examples per operation, derandomized."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from samples.services.tokens import api_token_create

# The HL7 endpoint is left out: its body is HL7 v2 text and its answer an HL7 ACK, which no
# JSON schema describes; tests/samples/test_api_hl7.py covers it.
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
    KNOWN["barcode"] = ["S-000701", "S-000702", "S-000703"]
    KNOWN["id"] = [batch.pk]
    yield lab
    KNOWN["barcode"], KNOWN["id"] = [], []


@pytest.fixture
def tokens(stocked):
    """A token for each kind of client, used on the endpoints that client may call."""
    instrument = api_token_create(owner=stocked.instrument.service_user)
    technician = api_token_create(owner=stocked.technician)
    return {"results": instrument, "batches": instrument, "samples": technician}


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
