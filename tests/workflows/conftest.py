import pytest

from tests.modes import BOTH_MODES
from workflows.testing import WorkflowTestEnv


@pytest.fixture(params=BOTH_MODES)
def env(request):
    """Every test that takes it runs in both modes (``tests.modes``). A module may define its
    own ``env``."""
    with WorkflowTestEnv() as test_env:
        yield test_env
