"""Evidence that holds: who and why of every audit event inside its hash, instrument messages
kept as the bytes received, reports and messages kept as stored.

- Each audit event gets ``pgh_context_snapshot``: the chain trigger copies the request's
  context (user, URL, reason...) into the event before hashing it, so the event's hash covers
  who and why. Events written before have none (null is left out of the digest: their hashes
  stay as they were) and are read with their ``pghistory_context`` row, which nothing hashes.
- ``pghistory_context`` is kept: no DELETE, and an UPDATE only in the transaction that wrote the
  row (django-pghistory updates a request's context while that transaction adds to it; a later
  transaction of the same request leaves the row as it is: its events hold their own copy).
- Batches (who started a run, and when) and chain checks are audited, chained like the other
  event tables; so are instrument messages and reports, without their content (their events
  hold its SHA-256).
- Instrument messages keep the bytes received (``raw``) and their SHA-256; messages stored
  before keep their decoded text, and get as ``raw`` its UTF-8 and that hash.
- Reports and instrument messages are append-only (a message's answer is set once).
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


NEW_EVENT_TABLES = (
    "samples_batchevent",
    "samples_chaincheckevent",
    "samples_instrumentmessageevent",
    "samples_reportevent",
)

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
    IF NOT to_jsonb(NEW) ? 'pgh_context_id' THEN
        NULL;  -- a table whose events have no context (sign-ins name their own person)
    ELSIF NEW.pgh_context_id IS NULL THEN
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
""" + "".join(
    f"CREATE TRIGGER audit_chain BEFORE INSERT ON {table} "
    "FOR EACH ROW EXECUTE FUNCTION audit_chain('pgh_obj_id');\n"
    for table in NEW_EVENT_TABLES
)

CHAIN_UNDO = (
    "".join(f"DROP TRIGGER audit_chain ON {table};\n" for table in NEW_EVENT_TABLES)
    + """
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
)

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

# Messages and reports stored before: an event each, dated now, so that their SHA-256 is in a
# chain from here on (batches and chain checks stored before have none: their next change is
# their first event).
EVENTS_BACKFILL = """
INSERT INTO samples_instrumentmessageevent (pgh_created_at, pgh_label, pgh_obj_id, id,
    client_id, instrument_id, kind, content_type, sha256, idempotency_key, received_at,
    status_code, answer)
SELECT clock_timestamp(), 'insert', id, id, client_id, instrument_id, kind, content_type,
    sha256, idempotency_key, received_at, status_code, answer
FROM samples_instrumentmessage ORDER BY id;
INSERT INTO samples_reportevent (pgh_created_at, pgh_label, pgh_obj_id, id, sample_id, sha256,
    created_at)
SELECT clock_timestamp(), 'insert', id, id, sample_id, sha256, created_at
FROM samples_report ORDER BY id;
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
        migrations.CreateModel(
            name="ChainCheckEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_prev_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_context_snapshot", models.JSONField(blank=True, editable=False, null=True)),
                ("id", models.BigIntegerField()),
                ("checked_at", models.DateTimeField()),
                ("trigger", models.CharField(max_length=16)),
                ("events", models.PositiveBigIntegerField()),
                ("chains", models.PositiveBigIntegerField()),
                ("intact", models.BooleanField()),
                ("findings", models.JSONField(blank=True, default=list)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="InstrumentMessageEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_prev_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_context_snapshot", models.JSONField(blank=True, editable=False, null=True)),
                ("id", models.BigIntegerField()),
                ("kind", models.CharField(max_length=16)),
                ("content_type", models.CharField(blank=True, max_length=100)),
                ("sha256", models.CharField(max_length=64)),
                ("idempotency_key", models.CharField(blank=True, max_length=200, null=True)),
                ("received_at", models.DateTimeField()),
                ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("answer", models.JSONField(blank=True, null=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="ReportEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_prev_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_context_snapshot", models.JSONField(blank=True, editable=False, null=True)),
                ("id", models.BigIntegerField()),
                ("sha256", models.CharField(max_length=64)),
                ("created_at", models.DateTimeField()),
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
            model_name="chaincheck",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_chaincheckevent" ("chains", "checked_at", "checked_by_id", "events", "findings", "id", "intact", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "trigger") VALUES (NEW."chains", NEW."checked_at", NEW."checked_by_id", NEW."events", NEW."findings", NEW."id", NEW."intact", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."trigger"); RETURN NULL;',
                    hash="f177e1627418cb0035753ebcef131f796f36d1bb",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_cecad",
                    table="samples_chaincheck",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="chaincheck",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "samples_chaincheckevent" ("chains", "checked_at", "checked_by_id", "events", "findings", "id", "intact", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "trigger") VALUES (NEW."chains", NEW."checked_at", NEW."checked_by_id", NEW."events", NEW."findings", NEW."id", NEW."intact", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."trigger"); RETURN NULL;',
                    hash="faa2f3d916f05a5720f17df9c6e490aec81c30f7",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_42514",
                    table="samples_chaincheck",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="chaincheck",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_chaincheckevent" ("chains", "checked_at", "checked_by_id", "events", "findings", "id", "intact", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "trigger") VALUES (OLD."chains", OLD."checked_at", OLD."checked_by_id", OLD."events", OLD."findings", OLD."id", OLD."intact", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."trigger"); RETURN NULL;',
                    hash="7e74debcbdfa2ee0bca0104b1b29328caabd8c53",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_4a35d",
                    table="samples_chaincheck",
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
            model_name="instrumentmessage",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_instrumentmessageevent" ("answer", "client_id", "content_type", "id", "idempotency_key", "instrument_id", "kind", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "sha256", "status_code") VALUES (NEW."answer", NEW."client_id", NEW."content_type", NEW."id", NEW."idempotency_key", NEW."instrument_id", NEW."kind", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."received_at", NEW."sha256", NEW."status_code"); RETURN NULL;',
                    hash="70ca7c286426bb507031ef2ab37ced8c293bd438",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_bad02",
                    table="samples_instrumentmessage",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentmessage",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."answer" IS DISTINCT FROM (NEW."answer") OR OLD."client_id" IS DISTINCT FROM (NEW."client_id") OR OLD."content_type" IS DISTINCT FROM (NEW."content_type") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."idempotency_key" IS DISTINCT FROM (NEW."idempotency_key") OR OLD."instrument_id" IS DISTINCT FROM (NEW."instrument_id") OR OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."received_at" IS DISTINCT FROM (NEW."received_at") OR OLD."sha256" IS DISTINCT FROM (NEW."sha256") OR OLD."status_code" IS DISTINCT FROM (NEW."status_code"))',
                    func='INSERT INTO "samples_instrumentmessageevent" ("answer", "client_id", "content_type", "id", "idempotency_key", "instrument_id", "kind", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "sha256", "status_code") VALUES (NEW."answer", NEW."client_id", NEW."content_type", NEW."id", NEW."idempotency_key", NEW."instrument_id", NEW."kind", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."received_at", NEW."sha256", NEW."status_code"); RETURN NULL;',
                    hash="c0d384992752bf5ce7c554cc6045d8f6b6e75371",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_5b208",
                    table="samples_instrumentmessage",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentmessage",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_instrumentmessageevent" ("answer", "client_id", "content_type", "id", "idempotency_key", "instrument_id", "kind", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "received_at", "sha256", "status_code") VALUES (OLD."answer", OLD."client_id", OLD."content_type", OLD."id", OLD."idempotency_key", OLD."instrument_id", OLD."kind", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."received_at", OLD."sha256", OLD."status_code"); RETURN NULL;',
                    hash="d642178ee548f3333f10f64dd38aa44e609ed81c",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_a3d6e",
                    table="samples_instrumentmessage",
                    when="AFTER",
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
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_reportevent" ("created_at", "id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sample_id", "sha256") VALUES (NEW."created_at", NEW."id", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."sample_id", NEW."sha256"); RETURN NULL;',
                    hash="42c5e4a66074be6b72baf1a2654a726b92bc4899",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_2341b",
                    table="samples_report",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."sample_id" IS DISTINCT FROM (NEW."sample_id") OR OLD."sha256" IS DISTINCT FROM (NEW."sha256"))',
                    func='INSERT INTO "samples_reportevent" ("created_at", "id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sample_id", "sha256") VALUES (NEW."created_at", NEW."id", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."sample_id", NEW."sha256"); RETURN NULL;',
                    hash="d504607ca4bffca1becb45ddf973bdd605926081",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_bf8ee",
                    table="samples_report",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_reportevent" ("created_at", "id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "sample_id", "sha256") VALUES (OLD."created_at", OLD."id", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."sample_id", OLD."sha256"); RETURN NULL;',
                    hash="7c2a5cca523c08965e6ac95c72e7b22ab16fe8fd",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_464b2",
                    table="samples_report",
                    when="AFTER",
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
        migrations.AddField(
            model_name="chaincheckevent",
            name="checked_by",
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
        migrations.AddField(
            model_name="chaincheckevent",
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
            model_name="chaincheckevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="audit_events",
                to="samples.chaincheck",
            ),
        ),
        migrations.AddField(
            model_name="instrumentmessageevent",
            name="client",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="instrumentmessageevent",
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
            model_name="instrumentmessageevent",
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
            model_name="instrumentmessageevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="audit_events",
                to="samples.instrumentmessage",
            ),
        ),
        migrations.AddField(
            model_name="reportevent",
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
            model_name="reportevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="audit_events",
                to="samples.report",
            ),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="sample",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="samples.sample",
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
        pgtrigger.migrations.AddTrigger(
            model_name="chaincheckevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="4d185feff4f50f96748a094cb7163d2d670fe4f0",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_4073f",
                    table="samples_chaincheckevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="instrumentmessageevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="c846b7f7765ab48bf29354567c00422e0bb6ac1b",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_adcaa",
                    table="samples_instrumentmessageevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="reportevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="2191ecb6edf8d8f8b5d190b3a75793df4c59ad82",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_deab3",
                    table="samples_reportevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(CHAIN, CHAIN_UNDO),
        migrations.RunSQL(CONTEXT, CONTEXT_UNDO),
        migrations.RunSQL(EVENTS_BACKFILL, migrations.RunSQL.noop),
    ]
