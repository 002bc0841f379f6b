"""A defined range for the times of samples and results (``samples.bounds``), held by the
database too: none before 2000-01-01 UTC, none from 2200-01-01 on. A year-1 collection time
could be stored before and broke every page listing it. And ``Assay.can_be_negative``
(nullable in the assay's events, so older events keep their hashes).

Rows already outside the range are not changed here (they are audited records): the migration
stops and names them, to be corrected with a reason before it runs again.
"""

import datetime
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

RANGE = "NOT ({column} >= '2000-01-01T00:00Z' AND {column} < '2200-01-01T00:00Z')"
OUT_OF_RANGE = [
    ("samples_sample", "barcode", "collected_at"),
    ("samples_sample", "barcode", "received_at"),
    ("samples_result", "id", "measured_at"),
    ("samples_unmatchedresult", "id", "measured_at"),
]


def refuse_rows_out_of_range(apps, schema_editor):
    found = []
    with schema_editor.connection.cursor() as cursor:
        for table, key, column in OUT_OF_RANGE:
            where = RANGE.format(column=column)
            cursor.execute(f"SELECT {key}::text FROM {table} WHERE {where} LIMIT 20")
            found += [f"{table} {row[0]} ({column})" for row in cursor.fetchall()]
    if found:
        raise RuntimeError(
            "These rows hold a time before 2000-01-01 or after 2199: correct them (with a "
            "reason) before this migration: " + ", ".join(found)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("samples", "0019_database_guards"),
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
        migrations.AddField(
            model_name="assay",
            name="can_be_negative",
            field=models.BooleanField(
                default=False,
                help_text="Whether a result of this assay can be below 0 (a base excess can; a concentration cannot). When not, a negative result is refused.",
            ),
        ),
        migrations.AddField(
            model_name="assayevent",
            name="can_be_negative",
            field=models.BooleanField(
                help_text="Whether a result of this assay can be below 0 (a base excess can; a concentration cannot). When not, a negative result is refused.",
                null=True,
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="assay",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_assayevent" ("batch_capacity", "batch_close_after", "can_be_negative", "code", "critical_high", "critical_low", "id", "is_active", "max_retests", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reference_high", "reference_low", "stability_hours", "units") VALUES (NEW."batch_capacity", NEW."batch_close_after", NEW."can_be_negative", NEW."code", NEW."critical_high", NEW."critical_low", NEW."id", NEW."is_active", NEW."max_retests", NEW."name", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."reference_high", NEW."reference_low", NEW."stability_hours", NEW."units"); RETURN NULL;',
                    hash="6c71fb78b2549ab25f914b1b37184c2fd233d8e3",
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
                    func='INSERT INTO "samples_assayevent" ("batch_capacity", "batch_close_after", "can_be_negative", "code", "critical_high", "critical_low", "id", "is_active", "max_retests", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reference_high", "reference_low", "stability_hours", "units") VALUES (NEW."batch_capacity", NEW."batch_close_after", NEW."can_be_negative", NEW."code", NEW."critical_high", NEW."critical_low", NEW."id", NEW."is_active", NEW."max_retests", NEW."name", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."reference_high", NEW."reference_low", NEW."stability_hours", NEW."units"); RETURN NULL;',
                    hash="cae3e8d216d01f4d6ec83bba02d46462eb34e232",
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
                    func='INSERT INTO "samples_assayevent" ("batch_capacity", "batch_close_after", "can_be_negative", "code", "critical_high", "critical_low", "id", "is_active", "max_retests", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "reference_high", "reference_low", "stability_hours", "units") VALUES (OLD."batch_capacity", OLD."batch_close_after", OLD."can_be_negative", OLD."code", OLD."critical_high", OLD."critical_low", OLD."id", OLD."is_active", OLD."max_retests", OLD."name", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."reference_high", OLD."reference_low", OLD."stability_hours", OLD."units"); RETURN NULL;',
                    hash="7e5a621aa2bbd320431956f8e06b453baf3244b4",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_4ea88",
                    table="samples_assay",
                    when="AFTER",
                ),
            ),
        ),
        migrations.RunPython(refuse_rows_out_of_range, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="result",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "measured_at__gte",
                        datetime.datetime(2000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                    ),
                    (
                        "measured_at__lt",
                        datetime.datetime(2200, 1, 1, 0, 0, tzinfo=datetime.UTC),
                    ),
                ),
                name="result_measured_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "collected_at__gte",
                        datetime.datetime(2000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                    ),
                    (
                        "collected_at__lt",
                        datetime.datetime(2200, 1, 1, 0, 0, tzinfo=datetime.UTC),
                    ),
                ),
                name="sample_collected_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="sample",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("received_at__isnull", True),
                    models.Q(
                        (
                            "received_at__gte",
                            datetime.datetime(2000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                        ),
                        (
                            "received_at__lt",
                            datetime.datetime(2200, 1, 1, 0, 0, tzinfo=datetime.UTC),
                        ),
                    ),
                    _connector="OR",
                ),
                name="sample_received_in_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="unmatchedresult",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("measured_at__isnull", True),
                    models.Q(
                        (
                            "measured_at__gte",
                            datetime.datetime(2000, 1, 1, 0, 0, tzinfo=datetime.UTC),
                        ),
                        (
                            "measured_at__lt",
                            datetime.datetime(2200, 1, 1, 0, 0, tzinfo=datetime.UTC),
                        ),
                    ),
                    _connector="OR",
                ),
                name="unmatched_measured_in_range",
            ),
        ),
    ]
