"""The audit chain trigger finds a record's newest event through an index whatever the
planner's statistics say (see workflows' migration 0010: a lookup planned while a table looked
empty scanned it whole for every inserted row)."""

from django.db import migrations

FORCE = "ALTER FUNCTION audit_chain() SET enable_seqscan = off;"
UNDO = "ALTER FUNCTION audit_chain() RESET enable_seqscan;"


class Migration(migrations.Migration):
    dependencies = [("samples", "0013_run_links")]

    operations = [migrations.RunSQL(FORCE, UNDO)]
