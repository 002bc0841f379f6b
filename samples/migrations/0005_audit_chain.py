"""The audit trail's event tables become hash chains (``samples.audit``).

Each event stores the hash of the event before it in its chain and SHA-256 over its own
canonical JSON (PostgreSQL's ``jsonb`` text of the row without its null or empty fields, times
in UTC) with that hash. A chain is
one record's events (``pgh_obj_id``), or the whole table where events have no record (tokens):
the record's row lock, or an advisory lock on the table, orders the writers. Event tables are
already append-only (django-pghistory's protect triggers, migration 0004).
"""

from django.db import migrations

TABLES = {
    "samples_assayevent": "pgh_obj_id",
    "samples_instrumentevent": "pgh_obj_id",
    "samples_sampleevent": "pgh_obj_id",
    "samples_resultevent": "pgh_obj_id",
    "samples_unmatchedresultevent": "pgh_obj_id",
    "samples_retestevent": "pgh_obj_id",
    "samples_signatureevent": "pgh_obj_id",
    "samples_userevent": "pgh_obj_id",
    "samples_roleevent": "pgh_obj_id",
    "samples_tokenevent": "",
}

FUNCTIONS = """
-- Fields that are null or empty are left out, so that adding a nullable or blank field to an
-- audited model (and so to its event table) leaves the hashes of older events as they were.
CREATE FUNCTION audit_digest(event jsonb, prev text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT encode(sha256(convert_to((
        (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb)
         FROM jsonb_each(jsonb_strip_nulls(event - 'pgh_hash'))
         WHERE value <> '""'::jsonb)
        || jsonb_build_object('pgh_prev_hash', prev)
    )::text, 'UTF8')), 'hex')
$$;

-- TG_ARGV[0]: the column whose value names the chain ('' for one chain per table).
CREATE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    chain text := TG_ARGV[0];
    prev text;
BEGIN
    PERFORM set_config('TimeZone', 'UTC', true);  -- the canonical JSON's times
    IF chain = '' THEN
        PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_NAME));
        EXECUTE format('SELECT pgh_hash FROM %I ORDER BY pgh_id DESC LIMIT 1', TG_TABLE_NAME)
            INTO prev;
    ELSE
        EXECUTE format(
            'SELECT pgh_hash FROM %I WHERE %I = ($1).%I ORDER BY pgh_id DESC LIMIT 1',
            TG_TABLE_NAME, chain, chain
        ) INTO prev USING NEW;
    END IF;
    NEW.pgh_id := nextval(pg_get_serial_sequence(TG_TABLE_NAME, 'pgh_id'));
    NEW.pgh_prev_hash := coalesce(prev, repeat('0', 64));
    NEW.pgh_hash := audit_digest(to_jsonb(NEW), NEW.pgh_prev_hash);
    RETURN NEW;
END $$;
"""


def _triggers(create: bool) -> str:
    statements = []
    for table, chain in TABLES.items():
        if create:
            statements.append(
                f"CREATE TRIGGER audit_chain BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION audit_chain('{chain}');"
            )
        else:
            statements.append(f"DROP TRIGGER audit_chain ON {table};")
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [("samples", "0004_audit_trail")]

    operations = [
        migrations.RunSQL(
            FUNCTIONS + _triggers(create=True),
            _triggers(create=False)
            + "DROP FUNCTION audit_chain(); DROP FUNCTION audit_digest(jsonb, text);",
        )
    ]
