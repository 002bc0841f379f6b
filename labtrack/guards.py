"""The database's own guards of the trail, and the application role's rights.

``PROTECTED`` is the one list of the tables that hold the trail: the workflow history, every
audit event table, the context of the audit events, the chain checks, the raw instrument
messages and the stored reports. On each of them:

- a statement trigger refuses ``TRUNCATE`` (row triggers never see one), for every role that
  does not own the table; the owner gets through only after ``SET guards.allow_truncate = on``
  in its own session (what the test suite's flush does), so neither a grant nor a setting lets
  any other role empty a table;
- a row trigger of our own (``keep_rows``, which reads no setting) refuses DELETE, and UPDATE
  but of the columns named here (those the application fills in after the insert), to every
  role; only the owner can switch it off (``ALTER TABLE ... DISABLE TRIGGER``), and the hash
  chains then tell;
- the application role may SELECT and INSERT, and UPDATE only the columns named here; never
  DELETE, TRUNCATE, or anything that changes a table.

The append-only triggers of django-pgtrigger (audit events, run links, chain checks, users
never deleted) skip themselves when the session lists them in ``pgtrigger.ignore``: any role
could switch them off with a plain ``SET``. ``IGNORE_FUNCTION`` replaces pgtrigger's function
so that the setting counts only for a member of the role that owns the triggered table.
pgtrigger reinstalls its own version whenever a migration installs a trigger, so ``install``
runs after every ``migrate`` (``labtrack.apps``), not only in the migrations that first added it.

Nothing here imports Django: the migrations and the tests call it with a DB-API cursor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Protected:
    table: str
    # Columns the application sets after the insert (an answer, a context's metadata).
    updatable: tuple[str, ...] = ()
    # Guarded row by row too (``keep_rows``): no DELETE, no UPDATE but of ``updatable``.
    rows: bool = True


PROTECTED: tuple[Protected, ...] = (
    Protected("workflows_historyevent"),
    Protected("samples_assayevent"),
    Protected("samples_auditreviewevent"),
    Protected("samples_instrumentevent"),
    Protected("samples_resultevent"),
    Protected("samples_retestevent"),
    Protected("samples_roleevent"),
    Protected("samples_sampleevent"),
    Protected("samples_signatureevent"),
    Protected("samples_tokenevent"),
    Protected("samples_unmatchedresultevent"),
    Protected("samples_userevent"),
    Protected("samples_batchevent"),
    Protected("samples_chaincheckevent"),
    Protected("samples_instrumentmessageevent"),
    Protected("samples_reportevent"),
    Protected("samples_signinevent"),
    Protected("samples_destinationevent"),
    Protected("samples_outboundmessageevent"),
    Protected("samples_controlmaterialevent"),
    Protected("samples_controllotevent"),
    Protected("samples_batchcontrolevent"),
    Protected("samples_controlresultevent"),
    Protected("samples_qcdecisionevent"),
    Protected("samples_criticalnotificationevent"),
    Protected("samples_criticalcallevent"),
    # django-pghistory rewrites a context's metadata in place while a request goes on.
    Protected("pghistory_context", updatable=("metadata", "updated_at"), rows=False),
    Protected("samples_chaincheck"),
    Protected("samples_instrumentmessage", updatable=("status_code", "answer")),
    Protected("samples_report"),
    Protected("samples_runlink"),
)

PROTECTED_TABLES: tuple[str, ...] = tuple(p.table for p in PROTECTED)

TRUNCATE_SETTING = "guards.allow_truncate"

REFUSE_TRUNCATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('{TRUNCATE_SETTING}', true) = 'on' AND pg_has_role(
        current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER'
    ) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '% keeps the trail: TRUNCATE refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

KEEP_ROWS_FUNCTION = """
CREATE OR REPLACE FUNCTION keep_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The trigger's arguments name the columns an UPDATE may change; nothing else may.
    IF TG_OP = 'UPDATE' AND cardinality(TG_ARGV) > 0
        AND to_jsonb(NEW) - TG_ARGV = to_jsonb(OLD) - TG_ARGV THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION '% keeps the trail: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

# pgtrigger's function, except that the setting counts only for the triggered table's owner
# (a trigger's name is unique on its table; pgtrigger's names carry the table's hash). Without
# the setting the answer is false at once, as before: the common path reads no catalog.
IGNORE_FUNCTION = """
CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME)
RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    ignored TEXT[];
BEGIN
    BEGIN
        ignored := current_setting('pgtrigger.ignore');
    EXCEPTION WHEN OTHERS THEN
        RETURN FALSE;
    END;
    IF ignored IS NULL OR NOT trigger_name = ANY(ignored) THEN
        RETURN FALSE;
    END IF;
    -- A guard lifts only for the role that owns its table (which could drop it anyway).
    RETURN COALESCE((
        SELECT bool_and(pg_has_role(current_user, c.relowner, 'MEMBER'))
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE t.tgname = trigger_name
    ), FALSE);
END $$;
"""

IGNORE_FUNCTION_MARK = "A guard lifts only for the role that owns its table"


def _existing(cursor: Any, tables: tuple[str, ...]) -> list[str]:
    cursor.execute(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') AND relname = ANY(%s) "
        "AND relnamespace = 'public'::regnamespace",
        [list(tables)],
    )
    found = {row[0] for row in cursor.fetchall()}
    return [t for t in tables if t in found]


def _trigger_definitions(cursor: Any, name: str) -> dict[str, str]:
    """The enabled triggers called ``name``: their table and definition."""
    cursor.execute(
        "SELECT c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname = %s AND t.tgenabled = 'O'",
        [name],
    )
    return {row[0]: row[1] for row in cursor.fetchall()}


def _keep_rows_call(protected: Protected) -> str:
    arguments = ", ".join(f"'{column}'" for column in protected.updatable)
    return f"keep_rows({arguments})"


def install(cursor: Any, tables: tuple[str, ...] = PROTECTED_TABLES) -> None:
    """(Re)assert every guard on the protected tables that exist: the TRUNCATE trigger, the
    row guard, and the owner-only ``pgtrigger.ignore``. Idempotent (what holds already is left
    as it is); run as the tables' owner."""
    cursor.execute(REFUSE_TRUNCATE_FUNCTION)
    cursor.execute(KEEP_ROWS_FUNCTION)
    cursor.execute(
        "SELECT prosrc FROM pg_proc WHERE proname = '_pgtrigger_should_ignore' "
        "AND pronamespace = 'public'::regnamespace"
    )
    current = cursor.fetchone()
    if current is None or IGNORE_FUNCTION_MARK not in current[0]:
        cursor.execute(IGNORE_FUNCTION)
    truncate_guarded = _trigger_definitions(cursor, "refuse_truncate")
    rows_guarded = _trigger_definitions(cursor, "keep_rows")
    present = set(_existing(cursor, tables))
    for protected in PROTECTED:
        table = protected.table
        if table not in present:
            continue
        if table not in truncate_guarded:
            cursor.execute(f'DROP TRIGGER IF EXISTS refuse_truncate ON "{table}"')
            cursor.execute(
                f'CREATE TRIGGER refuse_truncate BEFORE TRUNCATE ON "{table}" '
                "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()"
            )
        call = _keep_rows_call(protected)
        if protected.rows and call not in rows_guarded.get(table, ""):
            cursor.execute(f'DROP TRIGGER IF EXISTS keep_rows ON "{table}"')
            cursor.execute(
                f'CREATE TRIGGER keep_rows BEFORE UPDATE OR DELETE ON "{table}" '
                f"FOR EACH ROW EXECUTE FUNCTION {call}"
            )


def grant(cursor: Any, app_role: str) -> None:
    """Give ``app_role`` what the application needs and nothing more: DML on the tables,
    no DELETE and UPDATE only of the named columns on the protected ones, the sequences, the
    functions; never TRUNCATE, REFERENCES or TRIGGER. Run as the owner of the tables, so that
    tables the owner creates later get the same (default privileges)."""
    role = _identifier(app_role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ]
    for statement in statements:
        cursor.execute(statement)
    present = set(_existing(cursor, PROTECTED_TABLES))
    for protected in PROTECTED:
        if protected.table not in present:
            continue
        table = f'"{protected.table}"'
        cursor.execute(f"REVOKE UPDATE, DELETE ON {table} FROM {role}")
        if protected.updatable:
            columns = ", ".join(f'"{c}"' for c in protected.updatable)
            cursor.execute(f"GRANT UPDATE ({columns}) ON {table} TO {role}")


def problems(cursor: Any) -> list[str]:
    """What weakens the guards in this database, in words; empty when all hold."""
    found = []
    cursor.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user"
    )
    if cursor.fetchone()[0]:
        found.append(
            "the application's database role owns the tables: it could switch the guards off "
            "(set DATABASE_OWNER_URL and let the application connect as a role that owns nothing)"
        )
    cursor.execute(
        "SELECT prosrc FROM pg_proc WHERE proname = '_pgtrigger_should_ignore' "
        "AND pronamespace = 'public'::regnamespace"
    )
    row = cursor.fetchone()
    if row is not None and IGNORE_FUNCTION_MARK not in row[0]:
        found.append("pgtrigger.ignore lifts the append-only guards for any role (run migrate)")
    present = set(_existing(cursor, PROTECTED_TABLES))
    truncate_guarded = _trigger_definitions(cursor, "refuse_truncate")
    rows_guarded = _trigger_definitions(cursor, "keep_rows")
    missing = [t for t in PROTECTED_TABLES if t in present and t not in truncate_guarded]
    if missing:
        found.append(f"TRUNCATE is not refused on {', '.join(missing)} (run migrate)")
    unkept = [
        p.table
        for p in PROTECTED
        if p.rows and p.table in present and _keep_rows_call(p) not in rows_guarded.get(p.table, "")
    ]
    if unkept:
        found.append(f"rows may be changed or deleted in {', '.join(unkept)} (run migrate)")
    return found


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
