"""``make run``'s supervisor on a fresh data folder: it serves, stops cleanly and starts again.

This is the newcomer's path with no DATABASE_URL / REDIS_URL: embedded PostgreSQL and Redis,
migrations, demo data, web + worker + beat; Ctrl-C must leave no process behind.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
import pytest

from labtrack import embedded
from samples.demo.data import DEMO_USERS
from samples.roles import Role
from tests.cast import NAVIGATION
from tests.processes import REPO, free_port, wait_for

pytestmark = pytest.mark.slow


class Browser:
    """Just enough of a browser: cookies, the CSRF token, redirects."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self.opener.open(self.base + path, timeout=10) as response:
            return response.read().decode()

    def sign_in(self, username: str, password: str) -> str:
        form = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token, "the sign-in page has no CSRF token"
        data = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token[1], "username": username, "password": password}
        ).encode()
        with self.opener.open(self.base + "/accounts/login/", data=data, timeout=10) as response:
            return response.read().decode()


def nav_labels(html: str) -> list[str]:
    nav = re.search(r'<nav class="site-nav"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "no navigation: the sign-in did not succeed"
    return [re.sub(r"<[^>]+>", "", a).strip() for a in re.findall(r"<a\b.*?</a>", nav[1], re.S)]


# What would point the stack at another server than its embedded one.
DATABASE_VARIABLES = {"DATABASE_URL", "DATABASE_OWNER_URL", "DATABASE_SUPERUSER_URL"}


def start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {*DATABASE_VARIABLES, "REDIS_URL", "SECRET_KEY", "DEBUG"}
    }
    env["LABTRACK_DATA_DIR"] = str(data_dir)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "labtrack.stack", "run", "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


RULE = "=" * 72


def closing_block(log: Path) -> str:
    """The block that ends the start-up, once the log has it (a minute at most)."""
    for _ in range(600):
        parts = log.read_text().split(RULE)
        if len(parts) >= 3:
            return parts[1]
        time.sleep(0.1)
    raise AssertionError("no closing block: " + log.read_text()[-3000:])


def worker_answers(data_dir: Path) -> bool:
    env = {k: v for k, v in os.environ.items() if k not in {*DATABASE_VARIABLES, "REDIS_URL"}}
    env["LABTRACK_DATA_DIR"] = str(data_dir)
    result = subprocess.run(
        [sys.executable, "-m", "labtrack.stack", "exec", "--", sys.executable, "-m", "celery",
         "-A", "labtrack", "inspect", "ping", "--timeout=5"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result.returncode == 0


def service_pids(data_dir: Path) -> list[int]:
    pids = []
    for pid_file in [data_dir / "postgres" / "postmaster.pid", data_dir / "redis" / "redis.pid"]:
        if pid_file.exists():
            pids.append(int(pid_file.read_text().split()[0]))
    return pids


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_with_ctrl_c(process: subprocess.Popen[bytes], data_dir: Path) -> list[int]:
    watched = [p.pid for p in psutil.Process(process.pid).children(recursive=True)]
    watched += service_pids(data_dir)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=90) == 0
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in watched) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in watched if alive(pid)]


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """Last-resort cleanup after a failure: the supervisor and every process under it."""
    if process.poll() is None:
        for child in psutil.Process(process.pid).children(recursive=True):
            child.kill()
        process.kill()


@pytest.fixture
def data_dir():
    # Short path: Unix socket paths are limited to ~107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="lt-"))
    yield folder
    # Even when a failed test had to kill the supervisor, leave no server running.
    embedded.stop_redis(folder)
    embedded.stop_postgres(folder)
    shutil.rmtree(folder, ignore_errors=True)


def test_make_run_serves_each_role_and_stops_cleanly_twice(data_dir, tmp_path):
    port = free_port()
    log = tmp_path / "run.log"
    base = f"http://127.0.0.1:{port}"

    first = start(data_dir, port, log)
    try:
        status, body = wait_for(base + "/accounts/login/", first, seconds=180)
        assert status == 200 and b"Sign in" in body
        assert wait_for(base + "/healthz", first)[0] == 200
        for demo_user in DEMO_USERS:
            home = Browser(base).sign_in(demo_user.username, demo_user.password)
            assert nav_labels(home) == NAVIGATION[demo_user.role], demo_user.username
        # Worker and beat are up too: stopping must reach all three and both servers.
        block = closing_block(log)
        # Printed once all three were up: the worker answers at that point already.
        assert worker_answers(data_dir)
        assert len(psutil.Process(first.pid).children()) == 3
        assert len(service_pids(data_dir)) == 2
        assert f"LabTrack is running at http://127.0.0.1:{port}/" in block
        for demo_user in DEMO_USERS:
            assert f"{demo_user.username} / {demo_user.password}" in block
        assert "API token" in block
        started = log.read_text()
        # Progress while migrating: a line per migration, between the first step and the block.
        migrating = started.split("Applying migrations ...")[1].split(RULE)[0]
        assert re.search(r"Applying samples\.0001_\w+\.\.\. OK", migrating)
        assert "celery@" not in started and "[config]" not in started  # no worker banner
        leftovers = stop_with_ctrl_c(first, data_dir)
    finally:
        kill_tree(first)
    assert leftovers == [], log.read_text()[-3000:]

    # A second start on the same folder: nothing stale blocks it and the data is still there.
    second = start(data_dir, port, log)
    try:
        status, _ = wait_for(base + "/accounts/login/", second, seconds=120)
        assert status == 200
        home = Browser(base).sign_in("technician", "demo-technician")
        assert nav_labels(home) == NAVIGATION[Role.TECHNICIAN]
        leftovers = stop_with_ctrl_c(second, data_dir)
    finally:
        kill_tree(second)
    assert leftovers == []
    output = log.read_text()
    assert output.count("LabTrack is running at") == 2
    assert "Demo data already present; nothing changed." in output


def test_stack_exec_returns_the_commands_exit_code():
    result = subprocess.run(
        [sys.executable, "-m", "labtrack.stack", "exec", "--", sys.executable, "-c",
         "import os, sys; sys.exit(7 if os.environ['DATABASE_URL'] else 1)"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 7, result.stderr


def test_a_second_run_on_the_same_data_folder_is_refused_while_the_first_runs(data_dir, tmp_path):
    port = free_port()
    first = start(data_dir, port, tmp_path / "first.log")
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", first, seconds=180)
        second = start(data_dir, free_port(), tmp_path / "second.log")
        assert second.wait(timeout=60) != 0
        message = (tmp_path / "second.log").read_text()
        assert f"LabTrack is already running from {data_dir}" in message
        assert f"process {first.pid}" in message
        # The refused start touched nothing: the first still serves.
        assert wait_for(f"http://127.0.0.1:{port}/healthz", first)[0] == 200
        assert stop_with_ctrl_c(first, data_dir) == []
    finally:
        kill_tree(first)
