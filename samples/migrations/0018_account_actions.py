"""Administrators' actions on accounts in the trail, and sign-ins.

An account's events now hold its superuser flag (null in events written before, so their hashes
stay valid) and a ``user.password`` event for each new password (never the hash). Sign-ins,
failed sign-ins, lockouts and sign-outs get their own append-only event table, one hash chain.
"""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
import samples.tracking
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("samples", "0017_evidence"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="SignInEvent",
            fields=[
                ("pgh_id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "pgh_created_at",
                    models.DateTimeField(db_default=samples.tracking.ClockTimestamp()),
                ),
                (
                    "pgh_label",
                    models.CharField(
                        choices=[
                            ("signin.success", "signed in"),
                            ("signin.failure", "sign-in failed"),
                            ("signin.lockout", "locked out"),
                            ("signin.signout", "signed out"),
                        ],
                        max_length=32,
                    ),
                ),
                ("pgh_prev_hash", models.CharField(default="", editable=False, max_length=64)),
                ("pgh_hash", models.CharField(default="", editable=False, max_length=64)),
                ("username", models.CharField(max_length=150)),
                ("address", models.CharField(blank=True, max_length=64)),
                ("reason", models.CharField(blank=True, max_length=200)),
                ("failures", models.PositiveIntegerField(blank=True, null=True)),
            ],
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="auditeduser",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="auditeduser",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="auditeduser",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="userevent",
            name="is_superuser",
            field=models.BooleanField(null=True),
        ),
        migrations.AlterField(
            model_name="userevent",
            name="pgh_obj",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="username_first_name_last_name_email_is_active_is_staff_is_superuser_audit_events",
                to="samples.auditeduser",
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditeduser",
            trigger=pgtrigger.compiler.Trigger(
                name="insert_insert",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_userevent" ("email", "first_name", "is_active", "is_staff", "is_superuser", "last_name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "username") VALUES (NEW."email", NEW."first_name", NEW."is_active", NEW."is_staff", NEW."is_superuser", NEW."last_name", _pgh_attach_context(), clock_timestamp(), \'insert\', NEW."id", NEW."username"); RETURN NULL;',
                    hash="f921f553897372044ac19afb74e7ee9e4dfd8f03",
                    operation="INSERT",
                    pgid="pgtrigger_insert_insert_7e9cc",
                    table="auth_user",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditeduser",
            trigger=pgtrigger.compiler.Trigger(
                name="update_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."email" IS DISTINCT FROM (NEW."email") OR OLD."first_name" IS DISTINCT FROM (NEW."first_name") OR OLD."is_active" IS DISTINCT FROM (NEW."is_active") OR OLD."is_staff" IS DISTINCT FROM (NEW."is_staff") OR OLD."is_superuser" IS DISTINCT FROM (NEW."is_superuser") OR OLD."last_name" IS DISTINCT FROM (NEW."last_name") OR OLD."username" IS DISTINCT FROM (NEW."username"))',
                    func='INSERT INTO "samples_userevent" ("email", "first_name", "is_active", "is_staff", "is_superuser", "last_name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "username") VALUES (NEW."email", NEW."first_name", NEW."is_active", NEW."is_staff", NEW."is_superuser", NEW."last_name", _pgh_attach_context(), clock_timestamp(), \'update\', NEW."id", NEW."username"); RETURN NULL;',
                    hash="d49376fde6f253b6e854a23bf3055bf14f1a3d71",
                    operation="UPDATE",
                    pgid="pgtrigger_update_update_b6249",
                    table="auth_user",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditeduser",
            trigger=pgtrigger.compiler.Trigger(
                name="delete_delete",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func='INSERT INTO "samples_userevent" ("email", "first_name", "is_active", "is_staff", "is_superuser", "last_name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "username") VALUES (OLD."email", OLD."first_name", OLD."is_active", OLD."is_staff", OLD."is_superuser", OLD."last_name", _pgh_attach_context(), clock_timestamp(), \'delete\', OLD."id", OLD."username"); RETURN NULL;',
                    hash="d0229a503879e51a177df5c21f1c2ca3ead5ea2d",
                    operation="DELETE",
                    pgid="pgtrigger_delete_delete_4cc11",
                    table="auth_user",
                    when="AFTER",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditeduser",
            trigger=pgtrigger.compiler.Trigger(
                name="user_password_update",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    condition='WHEN (OLD."password" IS DISTINCT FROM (NEW."password"))',
                    func='INSERT INTO "samples_userevent" ("email", "first_name", "is_active", "is_staff", "is_superuser", "last_name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "username") VALUES (NEW."email", NEW."first_name", NEW."is_active", NEW."is_staff", NEW."is_superuser", NEW."last_name", _pgh_attach_context(), clock_timestamp(), \'user.password\', NEW."id", NEW."username"); RETURN NULL;',
                    hash="f0f50357a8edb17bd17a93719e611a461675db39",
                    operation="UPDATE",
                    pgid="pgtrigger_user_password_update_65b01",
                    table="auth_user",
                    when="AFTER",
                ),
            ),
        ),
        migrations.AddField(
            model_name="signinevent",
            name="user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="signinevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="9833bb426481aa6c5a44dff955d3a1c145818a55",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_d064e",
                    table="samples_signinevent",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunSQL(
            # One chain for the whole table, ordered by an advisory lock (as for tokens).
            "CREATE TRIGGER audit_chain BEFORE INSERT ON samples_signinevent "
            "FOR EACH ROW EXECUTE FUNCTION audit_chain('');",
            "DROP TRIGGER audit_chain ON samples_signinevent;",
        ),
    ]
