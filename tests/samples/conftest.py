import json

import pytest
from rest_framework.test import APIClient

from samples import services
from samples.models import UnmatchedResult
from samples.services.tokens import api_token_create
from tests.samples.lab import Lab, make_assay
from workflows.testing import WorkflowTestEnv


@pytest.fixture
def glucose(db):
    return make_assay()


@pytest.fixture
def instrument(glucose):
    registered, _token = services.instrument_register(
        name="Cobas-1", model="cobas c 311", serial="C311-0001", assay_codes=["GLU"]
    )
    return registered


@pytest.fixture
def lab(technician, reviewer, instrument, settings):
    """The lab with its workflows run in-process on a clock that moves between events, as a
    real one does. Nothing moves while a request is answered, so bench actions do not wait for
    their lifecycle step (tests/e2e shows them waiting for a real worker)."""
    settings.BENCH_ACTION_WAIT_SECONDS = 0
    with WorkflowTestEnv(moving_clock=True) as env:
        yield Lab(env, technician, reviewer, instrument)


@pytest.fixture
def misread(lab):
    """S-000961 waits in a running batch; the instrument misread its barcode as S-000691."""
    lab.register("S-000961")
    lab.receive("S-000961")
    lab.to_batch("S-000961")
    lab.close_batches()
    lab.start_run()
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(owner=lab.instrument.service_user)}"
    )
    body = {"sample": "S-000691", "assay": "GLU", "value": "4.8", "run_id": "R-9"}
    response = client.post("/api/v1/results/", json.dumps(body), content_type="application/json")
    assert response.status_code == 202
    return UnmatchedResult.objects.get()


@pytest.fixture
def running(lab):
    """S-000951, collected an hour ago, in a running GLU batch, waiting for its result."""
    lab.register("S-000951")
    lab.receive("S-000951")
    lab.to_batch("S-000951")
    lab.close_batches()
    lab.start_run()
    return "S-000951"
