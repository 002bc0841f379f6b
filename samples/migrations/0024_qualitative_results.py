"""Qualitative assays and text results: ``Assay.kind`` and ``Assay.answers``; ``Result.text``
(an answer), ``Result.value`` nullable, and a check that a result holds exactly one of them.
The fields added to audited models are nullable in their event tables, so the events written
before keep their hashes; every result recorded before holds a number and passes the check.
"""

import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("samples", "0023_outbox"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(
            model_name="assay",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="assay",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="assay",
            name="delete_delete",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="result",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="result",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="result",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="assay",
            name="answers",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="assay",
            name="kind",
            field=models.CharField(
                choices=[
                    ("quantitative", "Quantitative: a number"),
                    ("qualitative", "Qualitative: one of its answers"),
                ],
                default="quantitative",
                help_text="What a result of this assay is: a number, or one of its answers.",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="assayevent",
            name="answers",
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="assayevent",
            name="kind",
            field=models.CharField(
                choices=[
                    ("quantitative", "Quantitative: a number"),
                    ("qualitative", "Qualitative: one of its answers"),
                ],
                help_text="What a result of this assay is: a number, or one of its answers.",
                max_length=12,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="result",
            name="text",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name="resultevent",
            name="text",
            field=models.CharField(blank=True, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="assay",
            name="units",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name="assayevent",
            name="units",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name="result",
            name="units",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name="result",
            name="value",
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True),
        ),
        migrations.AlterField(
            model_name="resultevent",
            name="units",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name="resultevent",
            name="value",
            field=models.DecimalField(blank=True, decimal_places=4, max_digits=14, null=True),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="assay",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_assayevent" ("answers", "batch_capacity", "batch_close_after", "can_be_negative", "code", "critical_high", "critical_low", "id", "is_active", "kind", "max_retests", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reference_high", "reference_low", "stability_hours", "units") VALUES (NEW."answers", NEW."batch_capacity", NEW."batch_close_after", NEW."can_be_negative", NEW."code", NEW."critical_high", NEW."critical_low", NEW."id", NEW."is_active", NEW."kind", NEW."max_retests", NEW."name", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."reference_high", NEW."reference_low", NEW."stability_hours", NEW."units"); RETURN NULL;',
                    hash="31e19eacf4735b085c1fba99b36be19e91678508",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_85848",
                    table="samples_assay",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="assay",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "samples_assayevent" ("answers", "batch_capacity", "batch_close_after", "can_be_negative", "code", "critical_high", "critical_low", "id", "is_active", "kind", "max_retests", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reference_high", "reference_low", "stability_hours", "units") VALUES (NEW."answers", NEW."batch_capacity", NEW."batch_close_after", NEW."can_be_negative", NEW."code", NEW."critical_high", NEW."critical_low", NEW."id", NEW."is_active", NEW."kind", NEW."max_retests", NEW."name", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."reference_high", NEW."reference_low", NEW."stability_hours", NEW."units"); RETURN NULL;',
                    hash="e01f0213eb6c54d5b34a21ca6d2de445409f33f7",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_8b3e6",
                    table="samples_assay",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="assay",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_assayevent" ("answers", "batch_capacity", "batch_close_after", "can_be_negative", "code", "critical_high", "critical_low", "id", "is_active", "kind", "max_retests", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reference_high", "reference_low", "stability_hours", "units") VALUES (OLD."answers", OLD."batch_capacity", OLD."batch_close_after", OLD."can_be_negative", OLD."code", OLD."critical_high", OLD."critical_low", OLD."id", OLD."is_active", OLD."kind", OLD."max_retests", OLD."name", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."reference_high", OLD."reference_low", OLD."stability_hours", OLD."units"); RETURN NULL;',
                    hash="86eb4b7c362b1d4c91a427e53ba468eb68170842",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_4ea88",
                    table="samples_assay",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="result",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_resultevent" ("amended_at", "amended_by_id", "amendment_reason", "assay_id", "batch_id", "critical_flagged_at", "entered_by_id", "entry_reason", "flags", "id", "instrument_id", "instrument_run_id", "interpretation", "measured_at", "message_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "sample_id", "superseded_by_id", "text", "units", "value") VALUES (NEW."amended_at", NEW."amended_by_id", NEW."amendment_reason", NEW."assay_id", NEW."batch_id", NEW."critical_flagged_at", NEW."entered_by_id", NEW."entry_reason", NEW."flags", NEW."id", NEW."instrument_id", NEW."instrument_run_id", NEW."interpretation", NEW."measured_at", NEW."message_id", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."recorded_at", NEW."sample_id", NEW."superseded_by_id", NEW."text", NEW."units", NEW."value"); RETURN NULL;',
                    hash="9f76a9547c1c40d9f89d110bae70068b7d72e3d8",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_794f0",
                    table="samples_result",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="result",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition="WHEN (OLD.* IS DISTINCT FROM NEW.*)",
                    func='INSERT INTO "samples_resultevent" ("amended_at", "amended_by_id", "amendment_reason", "assay_id", "batch_id", "critical_flagged_at", "entered_by_id", "entry_reason", "flags", "id", "instrument_id", "instrument_run_id", "interpretation", "measured_at", "message_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "sample_id", "superseded_by_id", "text", "units", "value") VALUES (NEW."amended_at", NEW."amended_by_id", NEW."amendment_reason", NEW."assay_id", NEW."batch_id", NEW."critical_flagged_at", NEW."entered_by_id", NEW."entry_reason", NEW."flags", NEW."id", NEW."instrument_id", NEW."instrument_run_id", NEW."interpretation", NEW."measured_at", NEW."message_id", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."recorded_at", NEW."sample_id", NEW."superseded_by_id", NEW."text", NEW."units", NEW."value"); RETURN NULL;',
                    hash="6d6653687ca92e3b12f06a6cfe44779826e7447c",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_3ecf5",
                    table="samples_result",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="result",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_resultevent" ("amended_at", "amended_by_id", "amendment_reason", "assay_id", "batch_id", "critical_flagged_at", "entered_by_id", "entry_reason", "flags", "id", "instrument_id", "instrument_run_id", "interpretation", "measured_at", "message_id", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "recorded_at", "sample_id", "superseded_by_id", "text", "units", "value") VALUES (OLD."amended_at", OLD."amended_by_id", OLD."amendment_reason", OLD."assay_id", OLD."batch_id", OLD."critical_flagged_at", OLD."entered_by_id", OLD."entry_reason", OLD."flags", OLD."id", OLD."instrument_id", OLD."instrument_run_id", OLD."interpretation", OLD."measured_at", OLD."message_id", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."recorded_at", OLD."sample_id", OLD."superseded_by_id", OLD."text", OLD."units", OLD."value"); RETURN NULL;',
                    hash="589964d5975202027a88018618b0631e116e7547",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_f7aca",
                    table="samples_result",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="assay",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", ["quantitative", "qualitative"])),
                name="assay_kind_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="result",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("text__isnull", True), ("value__isnull", False)),
                    models.Q(("text__isnull", False), ("value__isnull", True)),
                    _connector="OR",
                ),
                name="result_is_a_number_or_an_answer",
            ),
        ),
    ]
