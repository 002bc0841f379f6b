"""Playing someone who holds the database's superuser: on a connection of its own (so whatever
role the tests' own connection has), the append-only guards of a table switched off, the
table changed, the guards switched on again. What it changes must be committed first: tests
that use it are transactional.

The connection is the test database's, as the role that owns its tables (which may switch
their triggers off, as a superuser may).
"""

from __future__ import annotations

import psycopg

from tests.database_roles import LOCK_WAIT, owner_url


def superuser_sql(tables: list[str], *statements: str) -> None:
    """Run ``statements`` in one transaction with every user trigger of ``tables`` off."""
    with psycopg.connect(owner_url(), options=LOCK_WAIT) as attacker, attacker.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no checks left pending at ENABLE
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for statement in statements:
            cursor.execute(statement)
        for table in tables:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
