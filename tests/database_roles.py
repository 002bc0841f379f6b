"""The suite runs as the application's role, as production does; the owner role creates and
migrates the test database and empties it between transactional tests (Django's flush).

Roles: ``DATABASE_URL``'s and ``DATABASE_OWNER_URL``'s when both are set (the embedded server
and CI provision ``labtrack_app`` and ``labtrack_owner``). A single-role configuration whose role
is a superuser (``DATABASE_URL=postgres://postgres@...``) gets the two roles made for it here
(``labtrack.dbroles.provision``, roles without passwords: a server that trusts local
connections), so the suite always runs with two. The tests that play an intruder with more
rights than the application connect separately as the owner (``owner_sql``) or as a superuser
(``superuser_url``: ``DATABASE_SUPERUSER_URL``, else the embedded server's or the single role's).
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.conf import settings
from django.db import connection

from labtrack import dbroles, embedded

_roles: dict[str, Any] = {}


def _is_superuser() -> bool:
    s = connection.settings_dict
    with psycopg.connect(_url_with(s["USER"], s["PASSWORD"], "postgres")) as conn:
        row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(row.fetchone()[0])


def _url_with(user: str, password: str, name: str | None = None) -> str:
    from tests.workers import database_url_as

    url = database_url_as(user, password)
    if name is None:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def become_owner() -> None:
    """Before the test database exists: the connection takes the owner's credentials."""
    s = connection.settings_dict
    app = {"USER": s["USER"], "PASSWORD": s["PASSWORD"]}
    owner = settings.DATABASE_OWNER
    superuser = os.environ.get("DATABASE_SUPERUSER_URL", "").strip()
    if owner is None:
        if not _is_superuser():
            raise RuntimeError(
                "The tests run as two database roles: set DATABASE_OWNER_URL (the role that owns "
                "the tables) beside DATABASE_URL (the application's), or give DATABASE_URL a "
                "superuser that may create them."
            )
        superuser = superuser or _url_with(app["USER"], app["PASSWORD"], "postgres")
        dbroles.provision_roles(superuser)
        owner = {"USER": dbroles.OWNER_ROLE, "PASSWORD": ""}
        app = {"USER": dbroles.APP_ROLE, "PASSWORD": ""}
        settings.DATABASE_OWNER = owner
        settings.DATABASE_APP_ROLE = dbroles.APP_ROLE
    elif not superuser and s["HOST"] == urlsplit(
        embedded.superuser_database_url(embedded.data_dir())
    ).query.removeprefix("host="):
        superuser = embedded.superuser_database_url(embedded.data_dir())
    _roles.update(app=app, owner=owner, superuser=superuser)
    connection.close()
    s.update(owner)


def become_app() -> None:
    """Once the test database is made and migrated: the suite runs as the application role,
    and so do the processes the tests start (a worker, a web server): they get the test
    database's URL and no owner's URL (which would name another database)."""
    connection.close()
    connection.settings_dict.update(_roles["app"])
    _roles["saved_owner_url"] = os.environ.pop("DATABASE_OWNER_URL", None)


def become_owner_again() -> None:
    """For the teardown: dropping the test database is the owner's."""
    connection.close()
    connection.settings_dict.update(_roles["owner"])
    saved = _roles.get("saved_owner_url")
    if saved is None:
        os.environ.pop("DATABASE_OWNER_URL", None)
    else:
        os.environ["DATABASE_OWNER_URL"] = saved


def app_url() -> str:
    return _url_with(_roles["app"]["USER"], _roles["app"]["PASSWORD"])


def owner_url() -> str:
    return _url_with(_roles["owner"]["USER"], _roles["owner"]["PASSWORD"])


def superuser_url() -> str | None:
    """A superuser's connection to the test database, when the suite knows one."""
    if not _roles.get("superuser"):
        return None
    parts = urlsplit(_roles["superuser"])
    return urlunsplit(parts._replace(path=f"/{connection.settings_dict['NAME']}"))


def app_role() -> str:
    return _roles["app"]["USER"]


def owner_role() -> str:
    return _roles["owner"]["USER"]


def owner_sql(sql: str, *params: object) -> None:
    """``sql`` committed on a connection of its own as the owner of the tables."""
    with psycopg.connect(owner_url(), autocommit=True) as conn:
        conn.execute(sql, params or None)


def rewrite_around_triggers(table: str, sql: str, *params: object, trigger: str = "USER") -> None:
    """What only the owner (or a superuser) can do: switch ``table``'s triggers off for one
    transaction, run ``sql`` in it, switch them on again; committed."""
    with psycopg.connect(owner_url()) as conn:
        conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER {trigger}')
        conn.execute(sql, params or None)
        conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER {trigger}')
