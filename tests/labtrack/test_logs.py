"""Log lines of the production web server: one JSON object per line, each with its time (ISO
8601, UTC), level, logger and message, and, for a request, its request id (the caller's
X-Request-ID when sane, echoed back) and the signed-in user's id. Read from what gunicorn
really wrote to stderr."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.cast import PASSWORD
from tests.processes import REPO, free_port, wait_for
from tests.workers import worker_database_url

pytestmark = pytest.mark.slow


class Site:
    """gunicorn serving the test database, its stderr in a file; a cookie-keeping client."""

    def __init__(self, log: Path) -> None:
        self.log = log
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = dict(
            os.environ, DATABASE_URL=worker_database_url(), LOG_FORMAT="json", LOG_LEVEL="INFO",
            SECURE_COOKIES="false",
        )  # fmt: skip
        env.pop("DEBUG", None)
        with log.open("ab") as out:
            self.server = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "labtrack.wsgi:application",
                 "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        wait_for(self.base + "/healthz", self.server)

    def get(self, path: str, **headers: str):
        request = urllib.request.Request(self.base + path, headers=headers)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def sign_in(self, username: str) -> None:
        _, _, form = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token, "the sign-in page has no CSRF token"
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token[1], "username": username, "password": PASSWORD}
        ).encode()
        with self.opener.open(self.base + "/accounts/login/", data=data, timeout=10) as response:
            assert "/accounts/login/" not in response.url, "the sign-in did not succeed"

    def lines(self) -> list[dict]:
        """Every JSON line written so far (gunicorn's own start-up lines are plain text)."""
        found = []
        for line in self.log.read_text().splitlines():
            if line.startswith("{"):
                found.append(json.loads(line))
        return found

    def stop(self) -> None:
        self.server.terminate()
        self.server.wait(timeout=20)


@pytest.fixture
def site(tmp_path, transactional_db):
    """The server sees the test's data: committed, not held in a test transaction."""
    started = Site(tmp_path / "web.log")
    yield started
    started.stop()


def finished(site: Site, request_id: str) -> dict:
    matching = [
        line
        for line in site.lines()
        if line.get("request_id") == request_id and line["message"] == "request_finished"
    ]
    assert len(matching) == 1, site.log.read_text()[-3000:]
    return matching[0]


def test_a_request_is_logged_as_json_with_the_callers_request_id(site):
    status, headers, _ = site.get("/accounts/login/?next=/samples/", **{"X-Request-ID": "edge-42"})
    assert status == 200
    assert headers["X-Request-ID"] == "edge-42"
    line = finished(site, "edge-42")
    assert line["level"] == "info"
    assert line["logger"] == "django_structlog.middlewares.request"
    assert line["code"] == 200
    assert line["request"] == "GET /accounts/login/"  # without its query string
    assert line["user_id"] is None
    assert datetime.fromisoformat(line["time"]).utcoffset() == UTC.utcoffset(None)
    assert list(line)[:4] == ["time", "level", "logger", "message"]


def test_a_request_without_a_sane_id_gets_a_new_one_echoed_back(site):
    status, headers, _ = site.get("/accounts/login/", **{"X-Request-ID": "no spaces; or {json}"})
    assert status == 200
    request_id = headers["X-Request-ID"]
    assert str(uuid.UUID(request_id)) == request_id
    assert finished(site, request_id)["code"] == 200
    assert "no spaces" not in site.log.read_text()
    _, headers, _ = site.get("/accounts/login/")
    assert headers["X-Request-ID"] != request_id


def test_a_signed_in_users_requests_carry_the_user_id(site, technician):
    site.sign_in(technician.username)
    status, headers, _ = site.get("/nowhere-at-all/")
    assert status == 404
    line = finished(site, headers["X-Request-ID"])
    assert line["user_id"] == technician.pk
    assert line["level"] == "warning" and line["code"] == 404
    assert PASSWORD not in site.log.read_text()


def test_health_checks_that_succeed_are_not_logged(site):
    status, headers, _ = site.get("/healthz")
    assert status == 200
    site.get("/accounts/login/", **{"X-Request-ID": "after-the-probe"})
    finished(site, "after-the-probe")  # written after the probe's would have been
    assert not [line for line in site.lines() if line.get("request_id") == headers["X-Request-ID"]]


def load_settings(**variables: str) -> subprocess.CompletedProcess[str]:
    """The real settings in a fresh interpreter, with these variables (and DEBUG unless given)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "LOG_FORMAT", "LOG_LEVEL"}}
    key = "log-test-key-" + "0123456789abcdef" * 4
    env.update(DJANGO_SETTINGS_MODULE="labtrack.settings", SECRET_KEY=key, **variables)
    code = "from django.conf import settings as s; print(s.LOG_FORMAT, s.LOGGING['root']['level'])"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"DEBUG": "false"}, "json INFO"),
        ({"DEBUG": "true"}, "console INFO"),
        ({"DEBUG": "true", "LOG_FORMAT": "JSON", "LOG_LEVEL": "warning"}, "json WARNING"),
    ],
)
def test_logs_are_json_in_production_and_readable_in_development(variables, expected):
    result = load_settings(**variables)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == expected


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT must be one of json, console"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL must be one of DEBUG, INFO"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 16 characters"),
    ],
)
def test_bad_logging_or_metrics_settings_stop_start_up(variables, message):
    result = load_settings(DEBUG="false", **variables)
    assert result.returncode != 0
    assert message in result.stderr
