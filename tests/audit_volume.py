"""A large audit trail seeded in bulk, for the export's volume test and its bench.

``seed_trail`` writes completed sample lifecycles of ten history events each with one
``INSERT ... SELECT`` ordered by run and sequence (the history's chain trigger hashes each row
as it goes in, after its predecessor), then registers samples for the first runs so that the
sample filter has something to match (each adds its ``sample.insert`` event to the trail).
Nothing here asserts; callers compare what they read with what the database holds.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

EVENTS_PER_RUN = 10
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)

_RUNS = """
INSERT INTO workflows_run (id, workflow, version, args, status, waiting_for, blocked_reason,
                           needs_advance, last_seq, created_at, updated_at, finished_at)
SELECT md5('audit-volume-' || n)::uuid, 'sample_lifecycle', 2,
       jsonb_build_array('V-' || lpad(n::text, 7, '0')), 'completed', '', '', false, 10,
       %(start)s + n * interval '1 minute', %(start)s + n * interval '1 minute',
       %(start)s + n * interval '1 minute' + interval '10 seconds'
FROM generate_series(1, %(runs)s) AS n
"""

# A lifecycle as the engine writes it: registration, receipt, routing, review, the end.
_HISTORY = """
INSERT INTO workflows_historyevent (run_id, seq, kind, cmd, attempt, data, actor, reason,
                                    created_at)
SELECT md5('audit-volume-' || n)::uuid, e.seq, e.kind, e.cmd, e.attempt, e.data,
       CASE e.who WHEN 't' THEN %(technician)s WHEN 'r' THEN %(reviewer)s ELSE '' END,
       e.reason, %(start)s + n * interval '1 minute' + e.seq * interval '1 second'
FROM generate_series(1, %(runs)s) AS n
CROSS JOIN (VALUES
    (1, 'run_started', NULL::int, NULL::int, '{"version": 2}'::jsonb, 't', ''),
    (2, 'wait_started', 1, NULL, '{"signal": "reception"}', '', ''),
    (3, 'signal_received', NULL, NULL,
     '{"name": "reception", "payload": {"action": "receive", "condition": "acceptable"}}',
     't', ''),
    (4, 'signal_consumed', 1, NULL,
     '{"signal_seq": 3, "payload": {"action": "receive", "condition": "acceptable"}}', '', ''),
    (5, 'step_scheduled', 2, NULL, '{"step": "samples.route", "args": []}', '', ''),
    (6, 'step_started', 2, 1, '{"step": "samples.route"}', '', ''),
    (7, 'step_completed', 2, 1, '{"step": "samples.route", "result": null}', '', ''),
    (8, 'wait_started', 3, NULL, '{"signal": "review"}', '', ''),
    (9, 'signal_received', NULL, NULL, '{"name": "review", "payload": {"action": "verify"}}',
     'r', 'within the reference range, released'),
    (10, 'run_completed', NULL, NULL, '{"result": "released"}', '', '')
) AS e(seq, kind, cmd, attempt, data, who, reason)
ORDER BY n, e.seq
"""


def run_id(n: int) -> uuid.UUID:
    """The id of the ``n``-th seeded run (as ``md5('audit-volume-' || n)::uuid`` in SQL)."""
    return uuid.UUID(hashlib.md5(f"audit-volume-{n}".encode()).hexdigest())


def barcode(n: int) -> str:
    return f"V-{n:07d}"


def seed_trail(*, runs: int, samples: int, technician, reviewer) -> None:
    """``runs`` completed lifecycles (``EVENTS_PER_RUN`` history events each) and a sample
    registered by ``technician`` for each of the first ``samples`` of them."""
    from django.db import connection, transaction

    from samples.models import Sample

    names = {"technician": technician.username, "reviewer": reviewer.username}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_RUNS, {"start": START, "runs": runs})
        cursor.execute(_HISTORY, {"start": START, "runs": runs, **names})
        Sample.objects.bulk_create(
            [
                Sample(
                    barcode=barcode(n),
                    specimen_type="serum",
                    subject_ref=f"SUBJ-{n}",
                    collected_at=START + timedelta(minutes=n) - timedelta(hours=1),
                    registered_at=START + timedelta(minutes=n),
                    registered_by=technician,
                    state="reported",
                    state_changed_at=START + timedelta(minutes=n, seconds=10),
                    received_at=START + timedelta(minutes=n, seconds=3),
                    received_by=technician,
                    receipt_condition="acceptable",
                    run_id=run_id(n),
                )
                for n in range(1, samples + 1)
            ],
            batch_size=5000,
        )
