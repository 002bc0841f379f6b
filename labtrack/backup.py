"""Back up the database of record, and restore a backup into a fresh database.

    python -m labtrack.backup dump FILE
        pg_dump of DATABASE_URL in PostgreSQL's custom format into FILE (never overwritten).
    python -m labtrack.backup restore FILE --into URL
        pg_restore of FILE into the database URL names (created when missing, refused unless
        empty), then ``manage.py audit verify`` against it: the exit code says whether every
        hash chain of the restored audit trail is intact.

With DATABASE_URL unset this is the embedded server, as everywhere else in LabTrack. pg_dump and
pg_restore must be of the server's major version, so they are looked up by version, not by name:
in ``--bin-dir`` when given, else the embedded server's own folder (its wheel, when installed),
each folder on PATH, then Debian's ``/usr/lib/postgresql/<major>/bin``. See docs/deployment.md.
Nothing here imports Django; the verification runs manage.py in a process of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from labtrack import embedded
from labtrack.env import PostgresURL, parse_postgres_url

ROOT = Path(__file__).resolve().parent.parent
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


class BackupError(Exception):
    """Something the operator must fix; the message says what."""


class Database:
    """A database named by a ``postgres://`` URL, as libpq and our own processes want it."""

    def __init__(self, url: str, *, variable: str = "the URL") -> None:
        self.url = url
        try:
            self.parts: PostgresURL = parse_postgres_url(variable, url)
        except Exception as error:  # ImproperlyConfigured, with the reason
            raise BackupError(str(error)) from None

    def conninfo(self, dbname: str | None = None) -> str:
        """Connection string without the password (it goes in PGPASSWORD: not on a command
        line that ``ps`` shows)."""
        p = self.parts
        return make_conninfo(
            dbname=dbname or p.name, user=p.user or None, host=p.host or None,
            port=p.port or None, **p.options,
        )  # fmt: skip

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.parts.password:
            env["PGPASSWORD"] = self.parts.password
        return env

    def connect(self, dbname: str | None = None) -> psycopg.Connection:
        try:
            return psycopg.connect(
                self.conninfo(dbname), password=self.parts.password or None, autocommit=True
            )
        except psycopg.OperationalError as error:
            raise BackupError(
                f"cannot connect to database {dbname or self.parts.name!r}: {error}".strip()
            ) from None

    def server_major(self, dbname: str | None = None) -> int:
        with self.connect(dbname) as conn:
            return conn.info.server_version // 10000


def database_of_record() -> Database:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return Database(url, variable="DATABASE_URL")
    return Database(embedded.database_url(embedded.data_dir()), variable="DATABASE_URL")


def _candidate_dirs(bin_dir: Path | None) -> Iterator[Path]:
    if bin_dir is not None:
        yield bin_dir
        return
    embedded_bin = embedded.postgres_bin_dir()
    if embedded_bin is not None:
        yield embedded_bin
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder:
            yield Path(folder)
    yield from sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def client_major(program: Path) -> int | None:
    try:
        result = subprocess.run(
            [str(program), "--version"], capture_output=True, text=True, timeout=30
        )
    except OSError:
        return None
    found = _VERSION.search(result.stdout)
    return int(found[1]) if result.returncode == 0 and found else None


def find_client(program: str, major: int, bin_dir: Path | None = None) -> Path:
    """The ``program`` (pg_dump, pg_restore) of PostgreSQL ``major``."""
    seen: dict[Path, int | None] = {}
    for folder in _candidate_dirs(bin_dir):
        path = folder / program
        if path in seen or not (path.is_file() and os.access(path, os.X_OK)):
            continue
        seen[path] = client_major(path)
        if seen[path] == major:
            return path
    found = ", ".join(f"{path} ({version or '?'})" for path, version in seen.items()) or "none"
    raise BackupError(
        f"no {program} of PostgreSQL {major}, the server's version, was found (found: {found}). "
        f"Install the PostgreSQL {major} client programs, or name their folder with --bin-dir."
    )


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise BackupError(f"{Path(command[0]).name} failed: {message}")


def dump(source: Database, output: Path, *, bin_dir: Path | None = None) -> str:
    """Write a custom-format dump of ``source`` to ``output``; returns what was done."""
    if output.exists():
        raise BackupError(f"{output} already exists; a backup is never overwritten.")
    major = source.server_major()
    pg_dump = find_client("pg_dump", major, bin_dir)
    partial = output.with_name(output.name + ".partial")
    try:
        # The dump holds personal data: readable by its owner only, from the first byte.
        partial.unlink(missing_ok=True)  # left by a dump that was killed
        partial.touch(mode=0o600)
        _run(
            [str(pg_dump), "--format=custom", f"--file={partial}",
             f"--dbname={source.conninfo()}"],
            source.environment(),
        )  # fmt: skip
        partial.rename(output)
    finally:
        partial.unlink(missing_ok=True)
    return (
        f"Backed up database {source.parts.name!r} (PostgreSQL {major}) to {output} "
        f"({output.stat().st_size} bytes) with {pg_dump}."
    )


def _prepare_empty(target: Database) -> None:
    """Create the target database, or make sure the existing one holds nothing."""
    name = target.parts.name
    with target.connect("postgres") as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            return
    with target.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg\\_toast%'"
        ).fetchone()
    if row and row[0]:
        raise BackupError(
            f"database {name!r} is not empty ({row[0]} tables, sequences or indexes): restore "
            "into a new database, never over one in use."
        )


def restore(backup: Path, target: Database, *, bin_dir: Path | None = None) -> str:
    if not backup.is_file():
        raise BackupError(f"{backup} is not a file.")
    _prepare_empty(target)
    major = target.server_major()
    pg_restore = find_client("pg_restore", major, bin_dir)
    # Objects belong to the restoring role: the backup may come from a server with other roles.
    _run(
        [str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error",
         "--single-transaction", f"--dbname={target.conninfo()}", str(backup)],
        target.environment(),
    )  # fmt: skip
    return f"Restored {backup} into database {target.parts.name!r} with {pg_restore}."


def verify(target: Database) -> int:
    """``manage.py audit verify`` against ``target``; its exit code (0: every chain intact)."""
    env = dict(os.environ, DATABASE_URL=target.url)
    env.pop("DATABASE_OWNER_URL", None)  # the restored copy: its restoring role reads it
    return subprocess.call([sys.executable, str(ROOT / "manage.py"), "audit", "verify"], env=env)


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        prog="python -m labtrack.backup",
        description="Back up the database of record; restore a backup into a fresh database.",
    )
    found.add_argument("--bin-dir", type=Path, help="folder holding pg_dump and pg_restore")
    actions = found.add_subparsers(dest="action", required=True)
    dumping = actions.add_parser("dump", help="pg_dump DATABASE_URL into FILE (custom format)")
    dumping.add_argument("file", type=Path)
    restoring = actions.add_parser(
        "restore", help="pg_restore FILE into a new, empty database, then audit verify it"
    )
    restoring.add_argument("file", type=Path)
    restoring.add_argument("--into", required=True, help="postgres:// URL of the new database")
    restoring.add_argument(
        "--no-verify", action="store_true", help="skip manage.py audit verify after restoring"
    )
    return found


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.action == "dump":
            print(dump(database_of_record(), args.file, bin_dir=args.bin_dir), flush=True)
            return 0
        target = Database(args.into, variable="--into")
        print(restore(args.file, target, bin_dir=args.bin_dir), flush=True)
    except BackupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0 if args.no_verify else verify(target)


if __name__ == "__main__":
    sys.exit(main())
