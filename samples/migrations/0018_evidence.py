"""Evidence that holds: who and why of every audit event inside its hash, instrument messages
kept as the bytes received, reports and messages kept as stored.

- Each audit event gets ``pgh_context_snapshot``: the chain trigger copies the request's
  context (user, URL, reason...) into the event before hashing it, so the event's hash covers
  who and why. Events written before have none (null is left out of the digest: their hashes
  stay as they were) and are read with their ``pghistory_context`` row, which nothing hashes.
- ``pghistory_context`` is kept: no DELETE, and an UPDATE only in the transaction that wrote the
  row (django-pghistory updates a request's context while that transaction adds to it; a later
  transaction of the same request leaves the row as it is: its events hold their own copy).
- Batches are audited (who started a run, and when), chained like the other event tables.
- Instrument messages keep the bytes received (``raw``) and their SHA-256; messages stored
  before keep their decoded text, and get as ``raw`` its UTF-8 and that hash.
- Reports and instrument messages are append-only (a message's answer is set once).
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


# The chain trigger of migration 0005, which also copies the event's context into it before
# its hash is computed. Of a request's context, the values in force when the event is written
# (django-pghistory sets them for each statement); an event given a context some other way
# gets that context row's values.
CHAIN = """
CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE
    chain text := TG_ARGV[0];
    prev text;
BEGIN
    PERFORM set_config('TimeZone', 'UTC', true);  -- the canonical JSON's times
    IF NEW.pgh_context_id IS NULL THEN
        NEW.pgh_context_snapshot := NULL;
    ELSIF current_setting('pghistory.context_id', true) = NEW.pgh_context_id::text THEN
        NEW.pgh_context_snapshot := coalesce(
            nullif(current_setting('pghistory.context_metadata', true), '')::jsonb, '{}');
    ELSE
        NEW.pgh_context_snapshot := coalesce(
            (SELECT metadata FROM pghistory_context WHERE id = NEW.pgh_context_id), '{}');
    END IF;
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
CREATE TRIGGER audit_chain BEFORE INSERT ON samples_batchevent
FOR EACH ROW EXECUTE FUNCTION audit_chain('pgh_obj_id');
"""

CHAIN_UNDO = """
DROP TRIGGER audit_chain ON samples_batchevent;
CREATE OR REPLACE FUNCTION audit_chain() RETURNS trigger LANGUAGE plpgsql
SET enable_seqscan = off AS $$
DECLARE
    chain text := TG_ARGV[0];
    prev text;
BEGIN
    PERFORM set_config('TimeZone', 'UTC', true);
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

# ``pghistory_context``: each row remembers the transaction that wrote it, and only that one
# may change it (django-pghistory's upsert, as the request adds to its context); never deleted.
# The upsert itself (django-pghistory's, with that condition added) leaves a row written by an
# earlier transaction as it is, so a request that spans transactions is not refused.
CONTEXT = """
ALTER TABLE pghistory_context ADD COLUMN written_in xid8 NOT NULL DEFAULT pg_current_xact_id();

CREATE FUNCTION audit_context_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.written_in := pg_current_xact_id();
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'audit context %: kept for good, never deleted', OLD.id;
    END IF;
    IF OLD.written_in <> pg_current_xact_id() OR NEW.written_in <> OLD.written_in
       OR NEW.id <> OLD.id THEN
        RAISE EXCEPTION 'audit context %: changed only by the transaction that wrote it', OLD.id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_context_kept BEFORE INSERT OR UPDATE OR DELETE ON pghistory_context
FOR EACH ROW EXECUTE FUNCTION audit_context_kept();

CREATE OR REPLACE FUNCTION _pgh_attach_context() RETURNS pghistory_context.id%TYPE AS $$
DECLARE
    _pgh_context_id UUID;
    _pgh_context_metadata JSONB;
BEGIN
    BEGIN
        SELECT INTO _pgh_context_id CURRENT_SETTING('pghistory.context_id');
        SELECT INTO _pgh_context_metadata CURRENT_SETTING('pghistory.context_metadata');
        EXCEPTION WHEN OTHERS THEN
    END;
    IF _pgh_context_id IS NOT NULL AND _pgh_context_metadata IS NOT NULL THEN
        INSERT INTO pghistory_context (id, metadata, created_at, updated_at)
            VALUES (_pgh_context_id, _pgh_context_metadata, NOW(), NOW())
            ON CONFLICT (id) DO UPDATE
                SET metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
                WHERE pghistory_context.metadata != EXCLUDED.metadata
                  AND pghistory_context.written_in = pg_current_xact_id();
        RETURN _pgh_context_id;
    ELSE
        RETURN NULL;
    END IF;
END;
$$ LANGUAGE plpgsql;
"""

CONTEXT_UNDO = """
DROP TRIGGER audit_context_kept ON pghistory_context;
DROP FUNCTION audit_context_kept();
CREATE OR REPLACE FUNCTION _pgh_attach_context() RETURNS pghistory_context.id%TYPE AS $$
DECLARE
    _pgh_context_id UUID;
    _pgh_context_metadata JSONB;
BEGIN
    BEGIN
        SELECT INTO _pgh_context_id CURRENT_SETTING('pghistory.context_id');
        SELECT INTO _pgh_context_metadata CURRENT_SETTING('pghistory.context_metadata');
        EXCEPTION WHEN OTHERS THEN
    END;
    IF _pgh_context_id IS NOT NULL AND _pgh_context_metadata IS NOT NULL THEN
        INSERT INTO pghistory_context (id, metadata, created_at, updated_at)
            VALUES (_pgh_context_id, _pgh_context_metadata, NOW(), NOW())
            ON CONFLICT (id) DO UPDATE
                SET metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
                WHERE pghistory_context.metadata != EXCLUDED.metadata;
        RETURN _pgh_context_id;
    ELSE
        RETURN NULL;
    END IF;
END;
$$ LANGUAGE plpgsql;
ALTER TABLE pghistory_context DROP COLUMN written_in;
"""

# Messages stored before the bytes were kept: their text's UTF-8, hashed now.
MESSAGES_BACKFILL = """
UPDATE samples_instrumentmessage
SET raw = convert_to(body, 'UTF8'), sha256 = encode(sha256(convert_to(body, 'UTF8')), 'hex');
"""


class Migration(migrations.Migration):
    dependencies = [
        ("pghistory", "0007_auto_20250421_0444"),
        ("samples", "0016_inbox_open_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BatchEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_prev_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_context_snapshot", models.JSONField(blank=True, editable=False, null=True)),
                ("id", models.BigIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "Open"),
                            ("closed", "Closed, waiting for its run"),
                            ("running", "Running"),
                            ("completed", "Completed"),
                        ],
                        default="open",
                        max_length=16,
                    ),
                ),
                ("capacity", models.PositiveIntegerField()),
                ("opened_at", models.DateTimeField()),
                ("closed_at", models.DateTimeField(blank=True, null=True)),
                ("run_started_at", models.DateTimeField(blank=True, null=True)),
                ("completed_at", models.DateTimeField(blank=True, null=True)),
                ("run_id", models.UUIDField(blank=True, null=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.AddField(
            model_name="assayevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditreviewevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="instrumentevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="instrumentmessage",
            name="raw",
            field=models.BinaryField(default=b""),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="instrumentmessage",
            name="sha256",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunSQL(MESSAGES_BACKFILL, migrations.RunSQL.noop),
        migrations.AddField(
            model_name="resultevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="retestevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="roleevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="sampleevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="signatureevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="tokenevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="unmatchedresultevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="userevent",
            name="pgh_context_snapshot",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="batch",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_batchevent" ("assay_id", "capacity", "closed_at", "completed_at", "id", "instrument_id", "opened_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "run_id", "run_started_at", "started_by_id", "status") VALUES (NEW."assay_id", NEW."capacity", NEW."closed_at", NEW."completed_at", NEW."id", NEW."instrument_id", NEW."opened_at", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."run_id", NEW."run_started_at", NEW."started_by_id", NEW."status"); RETURN NULL;',
                    hash="2dbc28d2edde949d84cf3e660349b92f3fb8735c",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_c799a",
                    table="samples_batch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="batch",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "samples_batchevent" ("assay_id", "capacity", "closed_at", "completed_at", "id", "instrument_id", "opened_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "run_id", "run_started_at", "started_by_id", "status") VALUES (NEW."assay_id", NEW."capacity", NEW."closed_at", NEW."completed_at", NEW."id", NEW."instrument_id", NEW."opened_at", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."run_id", NEW."run_started_at", NEW."started_by_id", NEW."status"); RETURN NULL;',
                    hash="8401c8863a1811e6e57620e5c9aaaf7d86a01596",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_1b74c",
                    table="samples_batch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="batch",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_batchevent" ("assay_id", "capacity", "closed_at", "completed_at", "id", "instrument_id", "opened_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "run_id", "run_started_at", "started_by_id", "status") VALUES (OLD."assay_id", OLD."capacity", OLD."closed_at", OLD."completed_at", OLD."id", OLD."instrument_id", OLD."opened_at", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."run_id", OLD."run_started_at", OLD."started_by_id", OLD."status"); RETURN NULL;',
                    hash="e22e4cb2e21136686013451e8589597404e058d7",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_1ed8c",
                    table="samples_batch",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentmessage",
            trigger=pgtrigger.compiler.Trigger(
                name="kept_as_received",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\nIF TG_OP = 'DELETE' THEN\n    RAISE EXCEPTION 'instrument message %: kept as received, never deleted', OLD.id;\nEND IF;\nIF OLD.status_code IS NOT NULL OR OLD.answer IS NOT NULL\n   OR (to_jsonb(NEW) - 'status_code' - 'answer') <> (to_jsonb(OLD) - 'status_code' - 'answer')\nTHEN\n    RAISE EXCEPTION 'instrument message %: kept as received; only its answer is set, once',\n        OLD.id;\nEND IF;\nRETURN NEW;\n",
                    hash="719edd78ba540c9c49479143aeb1aa30cfefd540",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_kept_as_received_2f2dc",
                    table="samples_instrumentmessage",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="21973c7c82a678647f552df6f4a9f5de20173d63",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_05e58",
                    table="samples_report",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddField(
            model_name="batchevent",
            name="assay",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="samples.assay",
            ),
        ),
        migrations.AddField(
            model_name="batchevent",
            name="instrument",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="samples.instrument",
            ),
        ),
        migrations.AddField(
            model_name="batchevent",
            name="pgh_context",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="pghistory.context",
            ),
        ),
        migrations.AddField(
            model_name="batchevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="audit_events",
                to="samples.batch",
            ),
        ),
        migrations.AddField(
            model_name="batchevent",
            name="started_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="batchevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="c8dc21520ce82079e5e70f9a3eee54480066729e",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_07247",
                    table="samples_batchevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(CHAIN, CHAIN_UNDO),
        migrations.RunSQL(CONTEXT, CONTEXT_UNDO),
    ]
