"""A batch never holds more samples than its capacity: the database refuses a member's position
past it (and a position below 1), whoever inserts it. Existing rows are not checked again (the
trigger fires on insert and on a change of position or batch)."""

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("samples", "0021_message_doors_and_kept_segments"),
    ]

    operations = [
        pgtrigger.migrations.AddTrigger(
            model_name="batchmember",
            trigger=pgtrigger.compiler.Trigger(
                name="member_within_capacity",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="\nIF NEW.position > (SELECT capacity FROM samples_batch WHERE id = NEW.batch_id) THEN\n    RAISE EXCEPTION 'batch %: position % is past its capacity', NEW.batch_id, NEW.position\n        USING ERRCODE = 'check_violation';\nEND IF;\nRETURN NEW;\n",
                    hash="3c63be7269576c48a5dc4dc2f77cee5bab78860d",
                    operation='INSERT OR UPDATE OF "position", "batch_id"',
                    pgid="pgtrigger_member_within_capacity_53f8a",
                    table="samples_batchmember",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddConstraint(
            model_name="batchmember",
            constraint=models.CheckConstraint(
                condition=models.Q(("position__gte", 1)), name="member_position_from_1"
            ),
        ),
    ]
