"""Backup and restore of the database of record (``python -m labtrack.backup``): a sample
registered and received through the services survives pg_dump and pg_restore into a fresh
database, whose audit trail ``manage.py audit verify`` finds intact; a row tampered with in the
restored copy is then found. Runs against whichever server the suite uses (the embedded one or
DATABASE_URL's), with the client programs of that server's version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from django.db import connection
from psycopg import sql

from labtrack import embedded
from labtrack.backup import BackupError, Database, client_major, find_client
from samples import services
from tests import database_roles
from tests.processes import REPO
from tests.samples.lab import Lab, make_assay
from tests.workers import worker_database_url
from workflows.testing import WorkflowTestEnv


def backup(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=worker_database_url())
    return subprocess.run(
        [sys.executable, "-m", "labtrack.backup", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def audit_verify(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "audit", "verify"],
        cwd=REPO, env=dict(os.environ, DATABASE_URL=url), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


@pytest.fixture
def restored_url():
    """The URL of a database next to the test database, dropped after the test: the owner
    role's (it may create databases; the application's role may not)."""
    source = urlsplit(database_roles.owner_url())
    url = source._replace(path=f"/{connection.settings_dict['NAME']}_restored").geturl()
    target = Database(url)
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
        sql.Identifier(target.parts.name)
    )
    with target.connect("postgres") as conn:
        conn.execute(drop)
    yield url
    with target.connect("postgres") as conn:
        conn.execute(drop)


@pytest.fixture
def received_sample(technician, reviewer):
    make_assay()
    instrument, _token = services.instrument_register(
        name="Cobas-1", model="cobas c 311", serial="C311-0001", assay_codes=["GLU"]
    )
    with WorkflowTestEnv(moving_clock=True) as env:
        lab = Lab(env, technician, reviewer, instrument)
        lab.register("S-000901")
        lab.receive("S-000901")
    return "S-000901"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_whose_audit_trail_verifies(
    received_sample, restored_url, tmp_path
):
    dump_file = tmp_path / "labtrack.dump"
    dumped = backup("dump", str(dump_file))
    assert dumped.returncode == 0, dumped.stderr
    assert dump_file.stat().st_mode & 0o077 == 0  # personal data: its owner's eyes only
    assert backup("dump", str(dump_file)).returncode == 2  # a backup is never overwritten

    restored = backup("restore", str(dump_file), "--into", restored_url)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "every chain is intact" in restored.stdout

    with psycopg.connect(restored_url) as conn:
        sample = conn.execute(
            "SELECT state, subject_ref FROM samples_sample WHERE barcode = %s", [received_sample]
        ).fetchone()
        events = conn.execute("SELECT count(*) FROM samples_sampleevent").fetchone()[0]
    assert sample == ("received", "SUBJ-S-000901")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM samples_sampleevent")
        assert events == cursor.fetchone()[0] > 1

    again = backup("restore", str(dump_file), "--into", restored_url)
    assert again.returncode == 2
    assert "is not empty" in again.stderr

    with psycopg.connect(restored_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE samples_sampleevent DISABLE TRIGGER USER")
        conn.execute("UPDATE samples_sampleevent SET subject_ref = 'SUBJ-FORGED'")
        conn.execute("ALTER TABLE samples_sampleevent ENABLE TRIGGER USER")
    verified = audit_verify(restored_url)
    assert verified.returncode != 0
    assert "BROKEN samples_sampleevent row" in verified.stdout


@pytest.mark.django_db
def test_the_client_programs_are_chosen_by_the_servers_version():
    major = connection.pg_version // 10000
    pg_dump = find_client("pg_dump", major)
    assert client_major(pg_dump) == major
    assert client_major(find_client("pg_restore", major)) == major


def test_a_folder_without_the_servers_version_is_refused_with_what_it_holds():
    folder = embedded.postgres_bin_dir()
    if folder is None:
        pytest.skip("the embedded server's wheel is not installed")
    theirs = client_major(folder / "pg_dump")
    with pytest.raises(BackupError, match=rf"no pg_dump of PostgreSQL 9.*\({theirs}\)"):
        find_client("pg_dump", 9, bin_dir=Path(folder))
