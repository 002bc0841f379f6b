"""Working as the owner role: migrations (and the test suite's flush) run as the role that owns
the tables (``DATABASE_OWNER_URL``), the application as the role of ``DATABASE_URL``, which
owns nothing. Without ``DATABASE_OWNER_URL`` both are the same role, as in a single-role
install, and ``check --deploy`` warns that the guards do not hold against it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from labtrack import guards

_CREDENTIALS = ("USER", "PASSWORD")


def owner_credentials() -> dict[str, str] | None:
    return settings.DATABASE_OWNER


@contextmanager
def as_owner(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Run the block on ``connection`` as the owner role: the connection is closed, its
    credentials swapped, and closed again and swapped back afterwards. A no-op in a
    single-role install or when the connection already is the owner's."""
    owner = owner_credentials()
    if not owner or connection.settings_dict["USER"] == owner["USER"]:
        yield
        return
    if connection.in_atomic_block:
        raise RuntimeError("cannot become the owner role inside a transaction")
    saved = {key: connection.settings_dict[key] for key in _CREDENTIALS}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def app_role() -> str:
    """The application's role: the user of ``DATABASE_URL``."""
    return settings.DATABASE_APP_ROLE


def after_migrate(using: str = "default", **kwargs: Any) -> None:
    """Re-assert the guards and, when the application has a role of its own, grant it its
    rights on every table (the migrations may have made new ones)."""
    connection = connections[using]
    # One transaction: a running application never sees its rights revoked before re-granted.
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        me = cursor.fetchone()[0]
        guards.install(cursor)
        role = app_role()
        if role and role != me:
            guards.grant(cursor, role)


def guard_problems() -> list[str]:
    """What weakens the guards, as the application's connection sees it."""
    with connections["default"].cursor() as cursor:
        return guards.problems(cursor)


@checks.register(checks.Tags.security, deploy=True)
def guards_hold(app_configs: object = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A warning (not an error: a single-role install still runs) for each weakness of the
    guards in the database the application connects to."""
    try:
        found = guard_problems()
    except DatabaseError as error:
        return [checks.Warning(f"database guards not checked: {error}", id="labtrack.W002")]
    return [checks.Warning(f"database guards: {problem}", id="labtrack.W001") for problem in found]
