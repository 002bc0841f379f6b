"""The deep check's limits: a sweep limit no longer than the sweep interval is refused at
start-up, and the default follows a long sweep interval."""

import os
import subprocess
import sys

from tests.processes import REPO

READ = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.HEALTH_SWEEP_MAX_LAG_SECONDS)"
)


def load_settings(**variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEALTH_", "WORKFLOWS_"))}
    env.update(variables)
    return subprocess.run(
        [sys.executable, "-c", READ],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_sweep_limit_within_one_sweep_interval_is_refused():
    result = load_settings(WORKFLOWS_SWEEP_SECONDS="30", HEALTH_SWEEP_MAX_LAG_SECONDS="30")
    assert result.returncode != 0
    assert "HEALTH_SWEEP_MAX_LAG_SECONDS must be longer than WORKFLOWS_SWEEP_SECONDS" in (
        result.stderr
    )


def test_the_default_sweep_limit_is_three_sweep_intervals_when_that_is_over_a_minute():
    assert load_settings(WORKFLOWS_SWEEP_SECONDS="5").stdout.split()[-1] == "60"
    assert load_settings(WORKFLOWS_SWEEP_SECONDS="40").stdout.split()[-1] == "120"
