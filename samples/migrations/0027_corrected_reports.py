"""Corrected reports: a sample has one report per release (``Report.number``, ``kind``, the
report it ``replaces`` and the ``signature`` that released it), and a sample corrected after
release waits for review again (state ``amended``). The reports stored before are originals,
number 1; their events have no value in the new fields, so they keep their hashes.
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("samples", "0026_critical_values"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="report",
            options={"ordering": ["sample", "number"]},
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="report",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="report",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="report",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="report",
            name="kind",
            field=models.CharField(
                choices=[("original", "Original"), ("corrected", "Corrected")],
                default="original",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="report",
            name="number",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="report",
            name="replaces",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="replaced_by",
                to="samples.report",
            ),
        ),
        migrations.AddField(
            model_name="report",
            name="signature",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="report",
                to="samples.signature",
            ),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="kind",
            field=models.CharField(
                choices=[("original", "Original"), ("corrected", "Corrected")],
                max_length=16,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="number",
            field=models.PositiveIntegerField(null=True),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="replaces",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="samples.report",
            ),
        ),
        migrations.AddField(
            model_name="reportevent",
            name="signature",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="samples.signature",
            ),
        ),
        migrations.AlterField(
            model_name="report",
            name="sample",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reports",
                to="samples.sample",
            ),
        ),
        migrations.AlterField(
            model_name="sample",
            name="state",
            field=models.CharField(
                choices=[
                    ("registered", "Registered"),
                    ("received", "Received"),
                    ("awaiting_batch", "Awaiting batch"),
                    ("in_batch", "In batch"),
                    ("resulted", "Resulted"),
                    ("retest_pending", "Retest pending"),
                    ("verified", "Verified"),
                    ("reported", "Reported"),
                    ("amended", "Corrected after release: awaiting review"),
                    ("rejected", "Rejected"),
                    ("cancelled", "Cancelled"),
                    ("expired", "Expired"),
                ],
                default="registered",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="sampleevent",
            name="state",
            field=models.CharField(
                choices=[
                    ("registered", "Registered"),
                    ("received", "Received"),
                    ("awaiting_batch", "Awaiting batch"),
                    ("in_batch", "In batch"),
                    ("resulted", "Resulted"),
                    ("retest_pending", "Retest pending"),
                    ("verified", "Verified"),
                    ("reported", "Reported"),
                    ("amended", "Corrected after release: awaiting review"),
                    ("rejected", "Rejected"),
                    ("cancelled", "Cancelled"),
                    ("expired", "Expired"),
                ],
                default="registered",
                max_length=16,
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="report",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_reportevent" ("created_at", "id", "kind", "number", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "replaces_id", "sample_id", "sha256", "signature_id") VALUES (NEW."created_at", NEW."id", NEW."kind", NEW."number", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."replaces_id", NEW."sample_id", NEW."sha256", NEW."signature_id"); RETURN NULL;',
                    hash="0a09f279e76d83d85a16d192c367336746c8c308",
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
                    condition='WHEN (OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."kind" IS DISTINCT FROM (NEW."kind") OR OLD."number" IS DISTINCT FROM (NEW."number") OR OLD."replaces_id" IS DISTINCT FROM (NEW."replaces_id") OR OLD."sample_id" IS DISTINCT FROM (NEW."sample_id") OR OLD."sha256" IS DISTINCT FROM (NEW."sha256") OR OLD."signature_id" IS DISTINCT FROM (NEW."signature_id"))',
                    func='INSERT INTO "samples_reportevent" ("created_at", "id", "kind", "number", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "replaces_id", "sample_id", "sha256", "signature_id") VALUES (NEW."created_at", NEW."id", NEW."kind", NEW."number", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."replaces_id", NEW."sample_id", NEW."sha256", NEW."signature_id"); RETURN NULL;',
                    hash="2f8520e2108ab2756ea8c2d31656efcc1ecd7c5b",
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
                    func='INSERT INTO "samples_reportevent" ("created_at", "id", "kind", "number", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "replaces_id", "sample_id", "sha256", "signature_id") VALUES (OLD."created_at", OLD."id", OLD."kind", OLD."number", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."replaces_id", OLD."sample_id", OLD."sha256", OLD."signature_id"); RETURN NULL;',
                    hash="3715d0eab9972ec9150784142ff1cb294edba882",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_464b2",
                    table="samples_report",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.UniqueConstraint(
                fields=("sample", "number"), name="report_number_per_sample"
            ),
        ),
        migrations.AddConstraint(
            model_name="report",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "original"), ("number", 1), ("replaces__isnull", True)),
                    models.Q(("kind", "corrected"), ("number__gt", 1), ("replaces__isnull", False)),
                    _connector="OR",
                ),
                name="report_original_first_then_corrected",
            ),
        ),
    ]
