"""The trail's tables refuse TRUNCATE, and DELETE and UPDATE row by row with a trigger that
reads no setting, and ``pgtrigger.ignore`` lifts an append-only guard only
for the role that owns its table (``labtrack.guards``, which keeps the list of the tables).

The same guards are re-asserted after every ``migrate`` (a later migration that installs a
pgtrigger trigger reinstalls pgtrigger's own ignore function), together with the application
role's rights; this migration puts them in place at this point of the history.
"""

from django.db import migrations

from labtrack import guards


def install(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        guards.install(cursor)


def remove(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for table in guards.PROTECTED_TABLES:
            cursor.execute(f'DROP TRIGGER IF EXISTS refuse_truncate ON "{table}"')
            cursor.execute(f'DROP TRIGGER IF EXISTS keep_rows ON "{table}"')
        cursor.execute("DROP FUNCTION IF EXISTS refuse_truncate()")
        cursor.execute("DROP FUNCTION IF EXISTS keep_rows()")


class Migration(migrations.Migration):
    dependencies = [
        ("samples", "0018_account_actions"),
        ("workflows", "0011_sweep_heartbeat"),
        ("pghistory", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, remove)]
