"""Results out: the destinations released results are sent to, and each ORU^R01 sent (its
bytes, control id, status, attempts, acknowledgement, re-sends). Both are audited; their event
tables are hash chains like the others (a chain per record), kept by the database's guards
(``labtrack.guards``, re-asserted after every migrate).
"""

import django.core.validators
import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("pghistory", "0007_auto_20250421_0444"),
        ("samples", "0022_batch_capacity"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="DestinationEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_prev_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_context_snapshot", models.JSONField(blank=True, editable=False, null=True)),
                ("id", models.BigIntegerField()),
                ("name", models.CharField(max_length=100)),
                (
                    "protocol",
                    models.CharField(
                        choices=[("mllp", "HL7 over MLLP (TCP)"), ("http", "HL7 over HTTP (POST)")],
                        max_length=8,
                    ),
                ),
                ("host", models.CharField(blank=True, max_length=255)),
                (
                    "port",
                    models.PositiveIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(65535),
                        ],
                    ),
                ),
                (
                    "url",
                    models.URLField(
                        blank=True,
                        max_length=500,
                        validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="OutboundMessage",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("original", "Original"), ("corrected", "Corrected")],
                        max_length=16,
                    ),
                ),
                ("prepared_by", models.CharField(max_length=100)),
                ("control_id", models.CharField(max_length=20, unique=True)),
                ("payload", models.BinaryField()),
                ("sha256", models.CharField(max_length=64)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sent", "Sent, waiting for its ACK"),
                            ("acknowledged", "Acknowledged"),
                            ("failing", "Failing"),
                            ("parked", "Parked"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("last_error", models.TextField(blank=True)),
                ("ack", models.TextField(blank=True)),
                ("created_at", models.DateTimeField()),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("parked_at", models.DateTimeField(blank=True, null=True)),
                ("resent_at", models.DateTimeField(blank=True, null=True)),
                ("resend_reason", models.TextField(blank=True)),
                ("resends", models.PositiveIntegerField(default=0)),
            ],
            options={
                "ordering": ["-created_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="OutboundMessageEvent",
            fields=[
                ("pgh_id", models.AutoField(primary_key=True, serialize=False)),
                ("pgh_created_at", models.DateTimeField(auto_now_add=True)),
                ("pgh_label", models.TextField(help_text="The event label.")),
                ("pgh_prev_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_context_snapshot", models.JSONField(blank=True, editable=False, null=True)),
                ("id", models.BigIntegerField()),
                (
                    "kind",
                    models.CharField(
                        choices=[("original", "Original"), ("corrected", "Corrected")],
                        max_length=16,
                    ),
                ),
                ("prepared_by", models.CharField(max_length=100)),
                ("control_id", models.CharField(max_length=20)),
                ("sha256", models.CharField(max_length=64)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sent", "Sent, waiting for its ACK"),
                            ("acknowledged", "Acknowledged"),
                            ("failing", "Failing"),
                            ("parked", "Parked"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("last_error", models.TextField(blank=True)),
                ("ack", models.TextField(blank=True)),
                ("created_at", models.DateTimeField()),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("parked_at", models.DateTimeField(blank=True, null=True)),
                ("resent_at", models.DateTimeField(blank=True, null=True)),
                ("resend_reason", models.TextField(blank=True)),
                ("resends", models.PositiveIntegerField(default=0)),
            ],
            options={
                "abstract": False,
            },
        ),
        migrations.CreateModel(
            name="Destination",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, unique=True)),
                (
                    "protocol",
                    models.CharField(
                        choices=[("mllp", "HL7 over MLLP (TCP)"), ("http", "HL7 over HTTP (POST)")],
                        max_length=8,
                    ),
                ),
                ("host", models.CharField(blank=True, max_length=255)),
                (
                    "port",
                    models.PositiveIntegerField(
                        blank=True,
                        null=True,
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(65535),
                        ],
                    ),
                ),
                (
                    "url",
                    models.URLField(
                        blank=True,
                        max_length=500,
                        validators=[django.core.validators.URLValidator(schemes=["http", "https"])],
                    ),
                ),
                ("is_active", models.BooleanField(default=True)),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(
                                ("protocol", "mllp"),
                                models.Q(("host", ""), _negated=True),
                                ("port__isnull", False),
                            ),
                            models.Q(("protocol", "http"), models.Q(("url", ""), _negated=True)),
                            _connector="OR",
                        ),
                        name="destination_has_an_address",
                        violation_error_message="An MLLP destination needs a host and a port; an HTTP one needs a URL.",
                    )
                ],
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="destination",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_destinationevent" ("host", "id", "is_active", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "port", "protocol", "url") VALUES (NEW."host", NEW."id", NEW."is_active", NEW."name", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."port", NEW."protocol", NEW."url"); RETURN NULL;',
                    hash="cf954512384352f9b951974438a928b5b65eea5d",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_80d6f",
                    table="samples_destination",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="destination",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "samples_destinationevent" ("host", "id", "is_active", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "port", "protocol", "url") VALUES (NEW."host", NEW."id", NEW."is_active", NEW."name", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."port", NEW."protocol", NEW."url"); RETURN NULL;',
                    hash="d0440957228e80d8d126900a2187900688b6137e",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_081c6",
                    table="samples_destination",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="destination",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_destinationevent" ("host", "id", "is_active", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "port", "protocol", "url") VALUES (OLD."host", OLD."id", OLD."is_active", OLD."name", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."port", OLD."protocol", OLD."url"); RETURN NULL;',
                    hash="57690619afb71139a7d8aff2e76ab08e12c45f6b",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_3a2d3",
                    table="samples_destination",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="destinationevent",
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
            model_name="destinationevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="audit_events",
                to="samples.destination",
            ),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="destination",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="messages",
                to="samples.destination",
            ),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="resent_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="outboundmessage",
            name="sample",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="outbound",
                to="samples.sample",
            ),
        ),
        migrations.AddField(
            model_name="outboundmessageevent",
            name="destination",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="samples.destination",
            ),
        ),
        migrations.AddField(
            model_name="outboundmessageevent",
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
            model_name="outboundmessageevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="audit_events",
                to="samples.outboundmessage",
            ),
        ),
        migrations.AddField(
            model_name="outboundmessageevent",
            name="resent_by",
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
            model_name="outboundmessageevent",
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
            model_name="destinationevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="eee1415e64fad8a40b117e9396fa33b5b19a50fd",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_73a20",
                    table="samples_destinationevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddIndex(
            model_name="outboundmessage",
            index=models.Index(fields=["status", "-created_at"], name="outbound_by_status"),
        ),
        migrations.AddConstraint(
            model_name="outboundmessage",
            constraint=models.UniqueConstraint(
                fields=("prepared_by", "destination"), name="one_message_per_destination_per_step"
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="outboundmessage",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_outboundmessageevent" ("ack", "acknowledged_at", "attempts", "control_id", "created_at", "destination_id", "id", "kind", "last_error", "parked_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prepared_by", "resend_reason", "resends", "resent_at", "resent_by_id", "sample_id", "sent_at", "sha256", "status") VALUES (NEW."ack", NEW."acknowledged_at", NEW."attempts", NEW."control_id", NEW."created_at", NEW."destination_id", NEW."id", NEW."kind", NEW."last_error", NEW."parked_at", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."prepared_by", NEW."resend_reason", NEW."resends", NEW."resent_at", NEW."resent_by_id", NEW."sample_id", NEW."sent_at", NEW."sha256", NEW."status"); RETURN NULL;',
                    hash="8854044cd7acc6b7de5f18771b1e270e37ab8624",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_dff61",
                    table="samples_outboundmessage",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="outboundmessage",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."ack" IS DISTINCT FROM (NEW."ack") OR OLD."acknowledged_at" IS DISTINCT FROM (NEW."acknowledged_at") OR OLD."attempts" IS DISTINCT FROM (NEW."attempts") OR OLD."control_id" IS DISTINCT FROM (NEW."control_id") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."destination_id" IS DISTINCT FROM (NEW."destination_id") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."last_error" IS DISTINCT FROM (NEW."last_error") OR OLD."parked_at" IS DISTINCT FROM (NEW."parked_at") OR OLD."prepared_by" IS DISTINCT FROM (NEW."prepared_by") OR OLD."resend_reason" IS DISTINCT FROM (NEW."resend_reason") OR OLD."resends" IS DISTINCT FROM (NEW."resends") OR OLD."resent_at" IS DISTINCT FROM (NEW."resent_at") OR OLD."resent_by_id" IS DISTINCT FROM (NEW."resent_by_id") OR OLD."sample_id" IS DISTINCT FROM (NEW."sample_id") OR OLD."sent_at" IS DISTINCT FROM (NEW."sent_at") OR OLD."sha256" IS DISTINCT FROM (NEW."sha256") OR OLD."status" IS DISTINCT FROM (NEW."status"))',
                    func='INSERT INTO "samples_outboundmessageevent" ("ack", "acknowledged_at", "attempts", "control_id", "created_at", "destination_id", "id", "kind", "last_error", "parked_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prepared_by", "resend_reason", "resends", "resent_at", "resent_by_id", "sample_id", "sent_at", "sha256", "status") VALUES (NEW."ack", NEW."acknowledged_at", NEW."attempts", NEW."control_id", NEW."created_at", NEW."destination_id", NEW."id", NEW."kind", NEW."last_error", NEW."parked_at", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."prepared_by", NEW."resend_reason", NEW."resends", NEW."resent_at", NEW."resent_by_id", NEW."sample_id", NEW."sent_at", NEW."sha256", NEW."status"); RETURN NULL;',
                    hash="62ef20bac1811667bdb3a3a14e831c9a2ec3c304",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_3b23b",
                    table="samples_outboundmessage",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="outboundmessage",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_outboundmessageevent" ("ack", "acknowledged_at", "attempts", "control_id", "created_at", "destination_id", "id", "kind", "last_error", "parked_at", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "prepared_by", "resend_reason", "resends", "resent_at", "resent_by_id", "sample_id", "sent_at", "sha256", "status") VALUES (OLD."ack", OLD."acknowledged_at", OLD."attempts", OLD."control_id", OLD."created_at", OLD."destination_id", OLD."id", OLD."kind", OLD."last_error", OLD."parked_at", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."prepared_by", OLD."resend_reason", OLD."resends", OLD."resent_at", OLD."resent_by_id", OLD."sample_id", OLD."sent_at", OLD."sha256", OLD."status"); RETURN NULL;',
                    hash="15c2c08508050e99adbe8bb329826293d51e7369",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_fcd89",
                    table="samples_outboundmessage",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="outboundmessageevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="3d0c011c36eba2a4db1db6116f23ea46587b28b2",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_0e7cc",
                    table="samples_outboundmessageevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(
            "CREATE TRIGGER audit_chain BEFORE INSERT ON samples_destinationevent FOR EACH ROW EXECUTE FUNCTION audit_chain('pgh_obj_id');\nCREATE TRIGGER audit_chain BEFORE INSERT ON samples_outboundmessageevent FOR EACH ROW EXECUTE FUNCTION audit_chain('pgh_obj_id');\n",
            "DROP TRIGGER audit_chain ON samples_destinationevent;\nDROP TRIGGER audit_chain ON samples_outboundmessageevent;\n",
        ),
    ]
