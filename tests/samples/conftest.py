import pytest

from samples import services
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
