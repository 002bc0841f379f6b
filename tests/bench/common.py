"""What every bench shares: a database of the bench's own, the size of the run
(``BENCH_SIZE``), emptying the lab's tables before seeding, and how a run is labelled.

``BENCH_SIZE=full`` (the default, ``make bench``) runs the volumes that ``docs/benchmarks.md``
reports. ``BENCH_SIZE=small`` (``make bench-smoke``) runs the same code at volumes a few hundred
times smaller, only to show that each bench still runs from end to end: its figures are not to
be compared with the targets. Nothing here asserts a time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg

from labtrack.guards import TRUNCATE_SETTING

SIZES = ("full", "small")
_prepared: str | None = None  # the bench database's URL, once this process points at it


def bench_size() -> str:
    """``BENCH_SIZE``: ``full`` when unset; a value other than ``full`` or ``small`` is refused."""
    size = os.environ.get("BENCH_SIZE", "").strip() or "full"
    if size not in SIZES:
        raise SystemExit(f"BENCH_SIZE must be one of {', '.join(SIZES)}, not {size!r}")
    return size


SMALL = bench_size() == "small"


def sized(full: int, small: int) -> int:
    """``full`` in a full run, ``small`` in a smoke run."""
    return small if SMALL else full


def bench_database_name(database_url: str) -> str:
    """The bench's database, named after the one ``database_url`` names (``<name>_bench``), so
    that two people with different databases never share a bench database."""
    name = urlsplit(database_url).path.lstrip("/")
    if not name:
        raise SystemExit(f"DATABASE_URL names no database: {database_url}")
    return f"{name}_bench"


def prepare_environment() -> None:
    """Point this process (and the workers and servers it starts) at the bench's own database,
    created when missing. A second call changes nothing.

    A bench seeds its database wholesale (it empties the trail's tables, switches triggers off
    while it writes rows in bulk, gathers statistics): it works as the owner role of the tables
    (``DATABASE_OWNER_URL`` when set), it and the processes it starts alike. Its figures are of
    speed, not of rights: the tests show what the application's role may do."""
    global _prepared
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    if _prepared is not None and os.environ["DATABASE_URL"] == _prepared:
        return
    url = os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = bench_database_name(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.pop("DATABASE_OWNER_URL", None)
    _prepared = os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))


def empty_database() -> None:
    """Empty every table of the ``workflows`` and ``samples`` apps, as Django's app registry
    lists them (so a table added to either app is emptied too), before a bench seeds its own
    rows. Accounts and role groups stay (auth's tables, which the apps' proxy models share)."""
    from django.apps import apps
    from django.db import connection

    tables = sorted(
        {
            model._meta.db_table
            for label in ("workflows", "samples")
            for model in apps.get_app_config(label).get_models(include_auto_created=True)
            if model._meta.managed and not model._meta.proxy
        }
    )
    quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
    with connection.cursor() as cursor:
        # The trail's tables refuse TRUNCATE but to their owner, when it asks (labtrack.guards).
        cursor.execute(f"SET {TRUNCATE_SETTING} = on")
        cursor.execute(f"TRUNCATE {quoted} CASCADE")
        cursor.execute(f"RESET {TRUNCATE_SETTING}")


def title(text: str) -> str:
    """A figure's heading, marked as such in a smoke run."""
    return f"{text}\n   [smoke run, BENCH_SIZE=small: not figures to compare]" if SMALL else text


def run(main: Callable[[], int], name: str) -> int:
    """Run a bench's ``main``; in a smoke run, say so before and how long it took after."""
    if not SMALL:
        return main()
    print(f"Smoke run of {name} (BENCH_SIZE=small): volumes shrunk to prove it runs.", flush=True)
    began = time.perf_counter()
    code = main()
    print(f"Smoke run of {name} done in {time.perf_counter() - began:.1f} s.", flush=True)
    return code
