"""The workflow history becomes tamper-evident and append-only.

Each event stores the previous event's hash (of the same run; 64 zeros for the first) and its
own: SHA-256 over the canonical JSON of its content and that previous hash (``history_digest``
below: PostgreSQL's jsonb text, whose keys come in a fixed order). A trigger sets both on every
insert, whichever path wrote the row, and refuses an event whose predecessor is missing;
another refuses every UPDATE and DELETE. Rows written before this migration are chained here.
"""

from django.db import migrations, models

DIGEST = """
CREATE FUNCTION history_digest(e workflows_historyevent, prev text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT encode(sha256(convert_to(jsonb_build_object(
        'prev', prev, 'run', e.run_id, 'seq', e.seq, 'kind', e.kind, 'cmd', e.cmd,
        'attempt', e.attempt, 'data', e.data, 'actor', e.actor, 'reason', e.reason,
        'dedupe_key', e.dedupe_key,
        'created_at', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    )::text, 'UTF8')), 'hex')
$$;

CREATE FUNCTION history_chain() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq = 1 THEN
        NEW.prev_hash := repeat('0', 64);
    ELSE
        SELECT hash INTO NEW.prev_hash FROM workflows_historyevent
        WHERE run_id = NEW.run_id AND seq = NEW.seq - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'history of run % has no event % to chain event % to',
                NEW.run_id, NEW.seq - 1, NEW.seq;
        END IF;
    END IF;
    NEW.hash := history_digest(NEW, NEW.prev_hash);
    RETURN NEW;
END $$;

CREATE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the workflow history is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""

BACKFILL = """
DO $$
DECLARE
    e workflows_historyevent;
    prev text;
    run uuid;
BEGIN
    FOR e IN SELECT * FROM workflows_historyevent ORDER BY run_id, seq LOOP
        IF run IS DISTINCT FROM e.run_id OR e.seq = 1 THEN
            prev := repeat('0', 64);
            run := e.run_id;
        END IF;
        UPDATE workflows_historyevent SET prev_hash = prev, hash = history_digest(e, prev)
        WHERE id = e.id RETURNING hash INTO prev;
    END LOOP;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER history_chain BEFORE INSERT ON workflows_historyevent
    FOR EACH ROW EXECUTE FUNCTION history_chain();
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON workflows_historyevent
    FOR EACH ROW EXECUTE FUNCTION history_append_only();
"""

UNDO = """
DROP TRIGGER history_append_only ON workflows_historyevent;
DROP TRIGGER history_chain ON workflows_historyevent;
DROP FUNCTION history_append_only();
DROP FUNCTION history_chain();
DROP FUNCTION history_digest(workflows_historyevent, text);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_drop_redundant_run_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="historyevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="historyevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunSQL(DIGEST + BACKFILL + TRIGGERS, UNDO),
    ]
