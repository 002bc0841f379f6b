"""The command door behind ``make run`` and ``make test``: services, then processes.

``python -m labtrack.stack exec -- CMD...`` runs CMD with a database and a broker: the servers
named by ``DATABASE_URL`` / ``REDIS_URL`` when set, otherwise the embedded ones (started if needed
and stopped afterwards if this command started them). ``run`` migrates, loads the demo data and
supervises the web server, one Celery worker and Celery beat until Ctrl-C, then stops them all.
``up``, ``down`` and ``status`` manage the embedded services for use from another terminal.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from labtrack import embedded

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STOP_GRACE_SECONDS = 10.0


def _secret_key(root: Path) -> str:
    """A random key kept in the data folder, so local sessions survive restarts."""
    path = root / "secret_key"
    if not path.exists():
        root.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


@contextmanager
def services(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Yield an environment with DATABASE_URL, REDIS_URL and SECRET_KEY set (and, for the
    embedded server, DATABASE_OWNER_URL: the application's role owns nothing).

    Embedded servers are started only for the URLs not given, and stopped on exit only if this
    call started them (a ``make run`` in another terminal keeps its servers).
    """
    root = embedded.data_dir()
    env = dict(env)
    started: list[str] = []
    try:
        if not env.get("DATABASE_URL"):
            if not embedded.postgres_running(root):
                print(f"Starting embedded PostgreSQL in {root / 'postgres'} ...", flush=True)
                started.append("postgres")
            embedded.start_postgres(root)
            env["DATABASE_URL"] = embedded.database_url(root)
            env["DATABASE_OWNER_URL"] = embedded.owner_database_url(root)
        if not env.get("REDIS_URL"):
            if not embedded.redis_running(root):
                print(f"Starting embedded Redis in {root / 'redis'} ...", flush=True)
                embedded.start_redis(root)
                started.append("redis")
            env["REDIS_URL"] = embedded.redis_url(root)
        if not env.get("SECRET_KEY"):
            env["SECRET_KEY"] = _secret_key(root)
        yield env
    finally:
        if "redis" in started:
            embedded.stop_redis(root)
        if "postgres" in started:
            embedded.stop_postgres(root)
        if started:
            print("Stopped embedded " + " and ".join(started) + ".", flush=True)


def _terminate(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every child's process group (Celery forks pool workers), then SIGKILL stragglers."""
    for process in processes:
        if process.poll() is None:
            _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
        # A group may still hold grandchildren after its leader exited; leave none behind.
        _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def _manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command; its output is returned, and shown at once if it fails."""
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed with exit code {result.returncode}")
    return result.stdout


def _migrate(env: dict[str, str]) -> None:
    """``migrate`` with its progress shown as it goes: a line per migration applied."""
    process = subprocess.Popen(
        [PYTHON, "manage.py", "migrate", "--noinput", "--verbosity=1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip():
            print("  " + line.rstrip(), flush=True)
    if process.wait() != 0:
        raise SystemExit(f"manage.py migrate failed with exit code {process.returncode}")


def _worker_answers(env: dict[str, str], name: str) -> bool:
    """Whether the Celery worker ``name`` answers a ping through the broker."""
    result = subprocess.run(
        [PYTHON, "-m", "celery", "-A", "labtrack", "inspect", "ping", "-d", name, "--timeout=2"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    return result.returncode == 0


def _wait_for_http(url: str, processes: Sequence[subprocess.Popen[bytes]], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def command_exec(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m labtrack.stack exec -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with services(dict(os.environ)) as env:
        return subprocess.call(argv, cwd=ROOT, env=env)


@contextmanager
def _exclusive(root: Path) -> Iterator[None]:
    """One ``run`` per data folder. The kernel drops a flock when its holder dies, so a killed
    run leaves nothing stale behind; the pid inside is only for the message."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "run.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise SystemExit(
                f"LabTrack is already running from {root} (process {holder}), or still "
                "stopping: stop it first (Ctrl-C in its terminal) and try again."
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def command_run(host: str, port: int) -> int:
    """Migrate, seed, then supervise web + worker + beat until Ctrl-C or a child dies."""
    root = embedded.data_dir()
    with _exclusive(root):
        return _supervise(root, host, port)


def _supervise(root: Path, host: str, port: int) -> int:
    base_env = dict(os.environ)
    base_env.setdefault("DEBUG", "true")  # a local demo; production runs docker compose
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    with services(base_env) as env:
        print("Applying migrations ...", flush=True)
        _migrate(env)
        print("Loading the demo data ...", flush=True)
        demo_report = _manage(env, "seed_demo")
        print("Starting web, worker and beat ...", flush=True)
        worker_name = f"worker@{socket.gethostname()}"
        # Worker and beat without banner and at WARNING (unless LOG_LEVEL says otherwise): what
        # they log routinely would bury the closing block (URL, logins, the one-time token);
        # problems still show.
        children = {
            "web": [PYTHON, "manage.py", "runserver", "--noreload", f"{host}:{port}"],
            "worker": [PYTHON, "-m", "celery", "-A", "labtrack", "--quiet", "worker",
                       "--loglevel=WARNING", "--concurrency=1", f"--hostname={worker_name}"],
            "beat": [PYTHON, "-m", "celery", "-A", "labtrack", "--quiet", "beat",
                     "--loglevel=WARNING", f"--schedule={root / 'celerybeat-schedule'}",
                     "--pidfile="],
        }  # fmt: skip
        # Each child leads its own process group: Ctrl-C reaches only this supervisor, which
        # then stops the children in order instead of racing them.
        quiet = {**env, "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING")}
        processes = [
            subprocess.Popen(
                cmd, cwd=ROOT, env=env if name == "web" else quiet, start_new_session=True
            )
            for name, cmd in children.items()
        ]
        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        url = f"http://{host}:{port}/"
        try:
            if _wait_for_http(url + "healthz", processes, seconds=60) and _wait_for_worker(
                env, worker_name, processes, seconds=60
            ):
                print(_banner(url, demo_report), flush=True)
            while not stop_requested and all(p.poll() is None for p in processes):
                time.sleep(0.2)
        finally:
            failed = [name for name, p in zip(children, processes, strict=True) if p.poll()]
            print("\nStopping web, worker and beat ...", flush=True)
            _terminate(processes)
    if failed and not stop_requested:
        print(f"Stopped because {', '.join(failed)} exited unexpectedly.", file=sys.stderr)
        return 1
    return 0


def _wait_for_worker(
    env: dict[str, str], name: str, processes: Sequence[subprocess.Popen[bytes]], seconds: float
) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            return False
        if _worker_answers(env, name):
            return True
        time.sleep(0.5)
    return False


RULE = "=" * 72


def _banner(url: str, demo_report: str) -> str:
    """The block that ends the start-up, printed once web, worker and beat are all up."""
    return (
        f"\n{RULE}\nLabTrack is running at {url}\n(web, worker and beat are up)\n\n"
        f"{demo_report.rstrip()}\n\n"
        f"Press Ctrl-C to stop web, worker, beat and the embedded services.\n{RULE}\n"
    )


def command_status() -> int:
    root = embedded.data_dir()
    print(f"data folder: {root}")
    print(f"postgres: {'running' if embedded.postgres_running(root) else 'stopped'}")
    print(f"redis:    {'running' if embedded.redis_running(root) else 'stopped'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labtrack.stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="migrate, seed demo data, run web + worker + beat")
    run.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    sub.add_parser("exec", help="run a command with database and broker available")
    sub.add_parser("up", help="start the embedded services and leave them running")
    sub.add_parser("down", help="stop the embedded services")
    sub.add_parser("status", help="show whether the embedded services run")
    args, rest = parser.parse_known_args(argv)
    try:
        return _command(parser, args, rest)
    except embedded.EmbeddedServerMissing as missing:
        raise SystemExit(str(missing)) from None


def _command(parser: argparse.ArgumentParser, args: argparse.Namespace, rest: list[str]) -> int:
    if args.command == "exec":
        return command_exec(rest[1:] if rest[:1] == ["--"] else rest)
    if rest:
        parser.error(f"unexpected arguments: {' '.join(rest)}")
    if args.command == "run":
        return command_run(args.host, args.port)
    root = embedded.data_dir()
    if args.command == "up":
        embedded.start_postgres(root)
        embedded.start_redis(root)
        print(
            f"DATABASE_URL={embedded.database_url(root)}\n"
            f"DATABASE_OWNER_URL={embedded.owner_database_url(root)}\n"
            f"REDIS_URL={embedded.redis_url(root)}"
        )
        return 0
    if args.command == "down":
        embedded.stop_redis(root)
        embedded.stop_postgres(root)
    return command_status()


if __name__ == "__main__":
    sys.exit(main())
