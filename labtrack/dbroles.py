"""The two database roles: the owner, which runs the migrations and owns every table, and the
application's role, which owns nothing (``labtrack.guards`` says what it may do).

``provision`` makes both on a server where it is given a superuser, and the database owned by
the owner; the embedded server and CI use it. ``python -m labtrack.dbroles provision URL DB``
does the same from a shell, with URL a superuser's connection to the server. Roles are made
with LOGIN and no password (a server with trust or peer authentication, as the embedded one and
CI's); a server with passwords gets them from its administrator. Nothing here imports Django.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import suppress
from typing import Any

OWNER_ROLE = "labtrack_owner"
APP_ROLE = "labtrack_app"

# Everything in the public schema that an earlier single-role install made as a superuser is
# handed to the owner, so that the owner's migrations can change it.
_HAND_OVER = f"""
DO $$
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT c.relkind, c.relname FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          AND pg_get_userbyid(c.relowner) <> '{OWNER_ROLE}'
          AND NOT (c.relkind = 'S' AND EXISTS (
              SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
    LOOP
        EXECUTE format('ALTER %s public.%I OWNER TO %I',
            CASE object.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, object.relname, '{OWNER_ROLE}');
    END LOOP;
    FOR object IN
        SELECT p.oid::regprocedure AS signature FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND pg_get_userbyid(p.proowner) <> '{OWNER_ROLE}'
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', object.signature, '{OWNER_ROLE}');
    END LOOP;
END $$;
"""


def _role(conn: Any, name: str, *, createdb: bool) -> None:
    import psycopg
    from psycopg import sql

    if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone() is not None:
        return
    create = sql.SQL("CREATE ROLE {} LOGIN {}").format(
        sql.Identifier(name), sql.SQL("CREATEDB" if createdb else "NOCREATEDB")
    )
    # Made by another process meanwhile: as good.
    with suppress(psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        conn.execute(create)


def provision_roles(superuser_url: str) -> None:
    """Create the two roles when missing."""
    import psycopg

    with psycopg.connect(superuser_url, autocommit=True) as conn:
        _role(conn, OWNER_ROLE, createdb=True)
        _role(conn, APP_ROLE, createdb=False)


def provision(superuser_url: str, database: str) -> None:
    """Create the two roles and ``database`` owned by the owner, when missing; a database of an
    earlier single-role install is handed to the owner with everything in it. Idempotent."""
    import psycopg
    from psycopg import sql

    provision_roles(superuser_url)
    with psycopg.connect(superuser_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if row is None:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(OWNER_ROLE)
                )
            )
            return
        if row[0] == OWNER_ROLE:
            return
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(database), sql.Identifier(OWNER_ROLE)
            )
        )
    with psycopg.connect(superuser_url, dbname=database, autocommit=True) as conn:
        conn.execute(_HAND_OVER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labtrack.dbroles", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    making = sub.add_parser("provision", help="create the two roles and the database")
    making.add_argument("superuser_url", help="a superuser's connection to the server")
    making.add_argument("database", help="the database, created owned by the owner role")
    args = parser.parse_args(argv)
    provision(args.superuser_url, args.database)
    print(f"roles {OWNER_ROLE} (owner) and {APP_ROLE} (application); database {args.database}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
