"""The chain trigger finds an event's predecessor through the unique (run, seq) index whatever
the planner's statistics say. PL/pgSQL keeps a generic plan for its lookup; planned while the
table's statistics still said "empty" (a fresh database, a bulk load before autovacuum ran),
that plan scanned the whole table for every inserted row, and a bulk insert took minutes per
thousand rows instead of seconds."""

from django.db import migrations

FORCE = "ALTER FUNCTION history_chain() SET enable_seqscan = off;"
UNDO = "ALTER FUNCTION history_chain() RESET enable_seqscan;"


class Migration(migrations.Migration):
    dependencies = [("workflows", "0009_run_lost_advances")]

    operations = [migrations.RunSQL(FORCE, UNDO)]
