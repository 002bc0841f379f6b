"""Liveness and readiness: /livez answers whatever is down; /readyz (and /healthz, its older
name) answers 200 when database and broker are reachable, 503 naming the one that is not."""

import os
import subprocess
import sys

import pytest

from tests.processes import REPO, free_port, get, wait_for

READINESS = ["/readyz", "/healthz"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", READINESS)
def test_readiness_is_200_when_database_and_broker_answer(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("url", READINESS)
def test_readiness_is_503_when_the_broker_is_down(client, settings, url):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get(url)
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


@pytest.mark.django_db
def test_liveness_is_200_while_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/livez")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_health_endpoints_answer_only_get(client):
    for url in ["/livez", "/readyz", "/healthz/deep"]:
        assert client.post(url).status_code == 405


@pytest.mark.slow
def test_readiness_is_503_and_liveness_200_when_the_database_is_down():
    """The production web server, started against a PostgreSQL port where nothing listens."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/labtrack")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "labtrack.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        status, body = wait_for(f"http://127.0.0.1:{port}/healthz", server)
        ready = get(f"http://127.0.0.1:{port}/readyz")
        live = get(f"http://127.0.0.1:{port}/livez")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert status == 503
    assert b'"database": "unreachable"' in body
    assert b'"broker": "ok"' in body
    assert ready == (status, body)
    assert live == (200, b'{"status": "ok"}')
