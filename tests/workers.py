"""Real Celery workers for integration tests, on the test database and a separate Redis db."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import redis
from django.conf import settings
from django.db import connection

from labtrack import env
from tests.processes import REPO

TEST_REDIS_DB = 15  # kept apart from whatever a local `make run` uses


def worker_database_url() -> str:
    """The URL of the database pytest-django created, for processes started by a test: as the
    application's role, which the suite runs as (``tests.database_roles``)."""
    s = connection.settings_dict
    return database_url_as(s["USER"], s["PASSWORD"])


def database_url_as(user: str, password: str = "") -> str:
    """The URL of the test database for the role ``user``."""
    s = connection.settings_dict
    auth = quote(user or "")
    if password:
        auth += ":" + quote(password)
    host = s["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{auth}@/{s['NAME']}?host={host}"
    port = f":{s['PORT']}" if s["PORT"] else ""
    return f"postgresql://{auth}@{host}{port}/{s['NAME']}"


def worker_broker_url() -> str:
    """The broker URL of this session's Celery, on Redis db ``TEST_REDIS_DB``."""
    redis_url = env.redis_url_of_broker(settings.CELERY_BROKER_URL)
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        query = urlencode(dict(parse_qsl(parts.query), db=str(TEST_REDIS_DB)))
        return env.celery_broker_url(f"unix://{parts.path}?{query}")
    return urlunsplit(parts._replace(path=f"/{TEST_REDIS_DB}"))


def redis_client(broker_url: str) -> redis.Redis:
    """A redis-py client on the Redis database a Celery broker URL names."""
    return redis.Redis.from_url(env.redis_url_of_broker(broker_url))


class CeleryProcess:
    """A ``celery -A labtrack ...`` process of the test, on the test database and broker, in a
    process group of its own: stopped (SIGTERM, then SIGKILL) or killed by the test."""

    def __init__(
        self,
        log: Path | None = None,
        database_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.log = log
        self.database_url = database_url
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    def arguments(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> Self:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url or worker_database_url(),
            CELERY_BROKER_URL=worker_broker_url(),
        )
        env.update(self.env)
        command = [sys.executable, "-m", "celery", "-A", "labtrack", *self.arguments()]
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        return self

    def kill(self) -> None:
        """SIGKILL the process and its children: no goodbye, no acknowledgements."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Worker(CeleryProcess):
    """``celery -A labtrack worker`` importing ``modules``."""

    def __init__(self, *modules: str, concurrency: int = 2, **options: Any) -> None:
        super().__init__(**options)
        self.modules = modules
        self.concurrency = concurrency

    def arguments(self) -> list[str]:
        arguments = [
            "worker", "--loglevel=WARNING", f"--concurrency={self.concurrency}",
            "--queues=default", f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]  # fmt: skip
        for module in self.modules:
            arguments += ["-I", module]
        return arguments


class Beat(CeleryProcess):
    """``celery -A labtrack beat``, its schedule file under ``folder``."""

    def __init__(self, folder: Path, **options: Any) -> None:
        super().__init__(**options)
        self.folder = folder

    def arguments(self) -> list[str]:
        schedule = self.folder / "celerybeat-schedule"
        return ["beat", "--loglevel=WARNING", f"--schedule={schedule}", "--pidfile="]


def wait_until(predicate, *, seconds: float, every: float = 0.1, also=None):
    """Poll ``predicate`` (calling ``also`` between polls, e.g. a sweep) until it is truthy."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if also is not None:
            also()
        time.sleep(every)
    raise AssertionError(f"condition not met within {seconds}s")
