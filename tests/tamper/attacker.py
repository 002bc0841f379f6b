"""Playing someone who holds the database's superuser: on a connection of its own (so whatever
role the tests' own connection has), the append-only guards of a table switched off, the
table changed, the guards switched on again. What it changes must be committed first: tests
that use it are transactional.

The connection is the test database's, as ``DATABASE_SUPERUSER_URL`` names its user and server
when set, else as the tests' own connection does.
"""

from __future__ import annotations

import os

import psycopg
from django.db import connection
from psycopg.conninfo import make_conninfo

from tests.workers import worker_database_url


def superuser_sql(tables: list[str], *statements: str) -> None:
    """Run ``statements`` in one transaction with every user trigger of ``tables`` off."""
    url = os.environ.get("DATABASE_SUPERUSER_URL") or worker_database_url()
    conninfo = make_conninfo(url, dbname=connection.settings_dict["NAME"])
    with psycopg.connect(conninfo) as attacker, attacker.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no checks left pending at ENABLE
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            cursor.execute(statement)
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
