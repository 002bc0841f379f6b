"""Each attempt to change or empty the trail from inside the database, made as the application's
role and as an ordinary role with every table grant (tests/tamper/conftest.py): refused, and the
trail unchanged."""

from __future__ import annotations

import psycopg
import pytest

from labtrack.guards import PROTECTED, PROTECTED_TABLES
from tests.tamper.intruders import Intruder, row_counts

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.histories_not_replayed("the attempts leave the histories as they were"),
]

# Tables of the trail that the seeded trail fills (the others are checked empty or not).
SEEDED = (
    "workflows_historyevent",
    "samples_sampleevent",
    "samples_resultevent",
    "samples_assayevent",
    "samples_userevent",
    "samples_signatureevent",
    "samples_chaincheck",
    "samples_instrumentmessage",
    "samples_report",
    "pghistory_context",
)


def test_truncate_history_is_refused(trail, intruder):
    before = row_counts(intruder)
    assert all(before[table] for table in SEEDED), before
    for table in PROTECTED_TABLES:
        error = intruder.refused(f'TRUNCATE "{table}" CASCADE')
        assert isinstance(error, psycopg.errors.InsufficientPrivilege), (table, error)
    assert row_counts(intruder) == before


def test_truncate_with_the_owners_setting_is_refused(trail, intruder):
    """The switch the owner's flush uses counts only for the owner of the table."""
    before = row_counts(intruder)
    intruder.conn.execute("SET guards.allow_truncate = on")
    for table in PROTECTED_TABLES:
        intruder.refused(f'TRUNCATE "{table}"')
    assert row_counts(intruder) == before


def test_truncate_of_a_table_the_trail_refers_to_is_refused(trail, intruder):
    """TRUNCATE ... CASCADE of a record table would empty the trail tables that refer to it."""
    before = row_counts(intruder)
    intruder.refused("TRUNCATE samples_sample CASCADE")
    assert row_counts(intruder) == before


def test_app_role_cannot_update_or_delete_audit_rows(trail, intruder):
    before = row_counts(intruder)
    assert all(before[table] for table in SEEDED), before
    for protected in PROTECTED:
        if not (protected.rows and before[protected.table]):
            continue  # a context's who and why: covered by its hash, not by a row guard
        table, column = protected.table, first_column(intruder, protected.table)
        if not protected.updatable:  # even an update that changes nothing is refused
            intruder.refused(f'UPDATE "{table}" SET "{column}" = "{column}"')
        intruder.refused(f'DELETE FROM "{table}"')
    assert row_counts(intruder) == before


def first_column(intruder: Intruder, table: str) -> str:
    return str(
        intruder.scalar(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 1",
            table,
        )
    )


def test_set_pgtrigger_ignore_does_not_lift_guard(trail, intruder):
    intruder.ignore_every_trigger()
    before = row_counts(intruder)
    intruder.refused("UPDATE samples_assayevent SET name = 'Sugar'")
    intruder.refused("DELETE FROM samples_resultevent")
    intruder.refused("UPDATE samples_chaincheck SET intact = false")
    intruder.refused("DELETE FROM samples_runlink")
    assert row_counts(intruder) == before


def test_raw_messages_and_reports_cannot_be_rewritten(trail, intruder):
    intruder.ignore_every_trigger()
    body = intruder.scalar("SELECT body FROM samples_instrumentmessage")
    intruder.refused("UPDATE samples_instrumentmessage SET body = '{}'")
    intruder.refused("DELETE FROM samples_instrumentmessage")
    intruder.refused("UPDATE samples_report SET pdf = '\\x00'::bytea")
    assert intruder.scalar("SELECT body FROM samples_instrumentmessage") == body


def test_app_role_cannot_delete_users(trail, intruder):
    users = intruder.scalar("SELECT count(*) FROM auth_user")
    assert users
    intruder.refused("DELETE FROM auth_user WHERE username = 'tess'")
    intruder.ignore_every_trigger()
    intruder.refused("DELETE FROM auth_user WHERE username = 'tess'")
    assert intruder.scalar("SELECT count(*) FROM auth_user") == users


def test_app_role_cannot_disable_triggers(trail, intruder):
    for table in (*PROTECTED_TABLES, "auth_user"):
        error = intruder.refused(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        assert isinstance(error, psycopg.errors.InsufficientPrivilege), (table, error)
    intruder.refused("SET session_replication_role = replica")
    enabled = intruder.scalar(
        "SELECT count(*) FROM pg_trigger WHERE tgname = 'refuse_truncate' AND tgenabled = 'O'"
    )
    assert enabled == len(PROTECTED_TABLES)


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE samples_resultevent ADD COLUMN note text",
        "ALTER TABLE samples_resultevent OWNER TO CURRENT_USER",
        "DROP TABLE samples_chaincheck",
        "DROP TRIGGER refuse_truncate ON workflows_historyevent",
        "DROP FUNCTION refuse_truncate() CASCADE",
        "CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME) "
        "RETURNS BOOLEAN LANGUAGE sql AS 'SELECT true'",
        "CREATE TABLE public.shadow (id int)",
        "CREATE TRIGGER mine BEFORE INSERT ON samples_resultevent "
        "FOR EACH ROW EXECUTE FUNCTION refuse_truncate()",
    ],
    ids=[
        "add-column", "take-ownership", "drop-table", "drop-trigger", "drop-function",
        "replace-ignore-function", "create-table", "create-trigger",
    ],
)  # fmt: skip
def test_app_role_cannot_alter_or_drop(glucose, intruder, statement):
    intruder.refused(statement)
    assert intruder.scalar("SELECT to_regclass('public.shadow')") is None
    assert intruder.scalar("SELECT count(*) FROM samples_assayevent")


def test_app_role_owns_no_table(intruder):
    owned = intruder.conn.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relowner = current_user::regrole "
        "UNION ALL SELECT p.proname FROM pg_proc p WHERE p.proowner = current_user::regrole "
        "UNION ALL SELECT n.nspname FROM pg_namespace n WHERE n.nspowner = current_user::regrole"
    ).fetchall()
    assert owned == []
    superuser, createrole = intruder.conn.execute(
        "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert (superuser, createrole) == (False, False)


def test_rewriting_context_who_is_refused(trail, intruder):
    intruder.ignore_every_trigger()
    context = intruder.scalar(
        "SELECT id FROM pghistory_context WHERE metadata->>'reason' = 'a change with its reason'"
    )
    assert context is not None
    kept = intruder.scalar("SELECT metadata FROM pghistory_context WHERE id = %s", context)
    intruder.refused(
        'UPDATE pghistory_context SET metadata = metadata || \'{"user": "compliance"}\' '
        "WHERE id = %s",
        context,
    )
    intruder.refused("DELETE FROM pghistory_context WHERE id = %s", context)
    assert intruder.scalar("SELECT metadata FROM pghistory_context WHERE id = %s", context) == kept


def test_changing_who_started_a_batch_is_an_event_of_its_own(trail, intruder):
    batch, started_by = intruder.conn.execute(
        "SELECT id, started_by_id FROM samples_batch WHERE started_by_id IS NOT NULL"
    ).fetchone()
    other = intruder.scalar("SELECT min(id) FROM auth_user WHERE id <> %s", started_by)
    events = intruder.scalar("SELECT count(*) FROM samples_batchevent WHERE pgh_obj_id = %s", batch)
    intruder.conn.execute(
        "UPDATE samples_batch SET started_by_id = %s WHERE id = %s", [other, batch]
    )
    newest = intruder.conn.execute(
        "SELECT pgh_label, started_by_id FROM samples_batchevent WHERE pgh_obj_id = %s "
        "ORDER BY pgh_id DESC LIMIT 1",
        [batch],
    ).fetchone()
    assert newest == ("update", other)
    assert (
        intruder.scalar("SELECT count(*) FROM samples_batchevent WHERE pgh_obj_id = %s", batch)
        == events + 1
    )
