"""The application runs as a role that owns nothing, and the guards come back after any
migration that weakened them."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection

from labtrack.owner import as_owner, guard_problems
from tests import database_roles


@pytest.mark.django_db
def test_the_application_connects_as_its_own_role():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user"
        )
        role, superuser, createdb = cursor.fetchone()
    assert role == database_roles.app_role() != database_roles.owner_role()
    assert (superuser, createdb) == (False, False)
    assert guard_problems() == []


# What django-pgtrigger's function does: the setting lifts a trigger for whoever sets it.
PGTRIGGERS_OWN_IGNORE = """
CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
BEGIN
    RETURN trigger_name = ANY(current_setting('pgtrigger.ignore', true)::text[]);
EXCEPTION WHEN OTHERS THEN
    RETURN FALSE;
END $$;
"""


@pytest.mark.django_db(transaction=True)
def test_migrate_restores_the_guards_a_migration_weakened(make_user, owner_sql, app_connection):
    make_user("tess")
    owner_sql(PGTRIGGERS_OWN_IGNORE)
    owner_sql("DROP TRIGGER refuse_truncate ON samples_resultevent")
    owner_sql("ALTER TABLE samples_assayevent DISABLE TRIGGER keep_rows")
    problems = guard_problems()
    assert any("pgtrigger.ignore lifts" in p for p in problems), problems
    assert any("TRUNCATE is not refused on samples_resultevent" in p for p in problems)
    assert any("changed or deleted in samples_assayevent" in p for p in problems)

    call_command("migrate", verbosity=0)

    assert guard_problems() == []
    app_connection.ignore_every_trigger()
    app_connection.refused("DELETE FROM auth_user WHERE username = 'tess'")


@pytest.mark.django_db(transaction=True)
def test_check_deploy_warns_when_the_application_owns_the_tables():
    with as_owner(connection):
        problems = guard_problems()
    assert any("owns the tables" in p for p in problems), problems
    assert guard_problems() == []
