"""The production web server for tests: gunicorn started as docker-compose's ``web`` service
starts it (its command, ``labtrack.gunicorn_conf``, ``DEBUG=false``), on the test database and
broker, on a free port of this machine; and a signed-in session on it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
import yaml

from tests.cast import PASSWORD
from tests.processes import REPO, free_port, wait_for
from tests.workers import worker_broker_url, worker_database_url


def compose_web_command() -> list[str]:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    return compose["services"]["web"]["command"]


@contextmanager
def production_web(folder: Path, **env: str) -> Iterator[str]:
    """The web service as compose runs it (its log in ``folder``), with ``env`` on top of the
    test's; yields its base URL and stops it after."""
    port = free_port()
    program, *args = compose_web_command()
    assert program == "gunicorn"
    environment = dict(
        os.environ,
        DATABASE_URL=worker_database_url(),
        CELERY_BROKER_URL=worker_broker_url(),
        DEBUG="false",
        SECURE_COOKIES="false",  # plain HTTP on the loopback; compose sits behind TLS
        ALLOWED_HOSTS="127.0.0.1",
        WEB_BIND=f"127.0.0.1:{port}",
        WEB_WORKERS="2",
        **env,
    )
    log = (folder / "web.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *args], cwd=REPO, env=environment, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/healthz", process)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def signed_in(url: str, username: str) -> requests.Session:
    session = requests.Session()
    session.get(f"{url}/accounts/login/").raise_for_status()
    answer = session.post(
        f"{url}/accounts/login/",
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session
