"""``make bench``: server time of the operations console's runs list, of the dashboard and of
the review queue with 100,000 workflow runs and 1,000,000 history events in the database
(target: each page under 200 ms, the review queue under 300 ms). Prints figures; asserts
nothing.

Seeded in bulk in the bench's own database: 95,000 completed sample lifecycles of ten history
events each (``tests.audit_volume``), each with its sample reported over the last 90 days
(ordered assays, a result per assay from one of three instruments, one result in 25 retested,
the reviewer's "reviewed and released" signature, one sample in 50 signed again); then 5,000
unfinished runs of ten events each (waiting, running, blocked or failed, changed over the last
three days, with what each waits for), 4,500 of them the lifecycles of samples still in the
lab. The lab's rows are written with triggers off (their audit events are not: neither page
reads the trail). Each page is requested by a reviewer through the whole Django stack in process
(middleware, session, view, selectors, template), timed from request to response. The dashboard
is two requests: the page, with the figures of now, and the figures of the period, which the
page fetches beside it (htmx); each is timed, and both one after the other. With
``BENCH_SIZE=small`` (``make bench-smoke``): 475 and 25 runs, 3 requests a page.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings

from tests.bench.common import empty_database, prepare_environment, run, sized, title

COMPLETED = sized(95_000, 475)
UNFINISHED = sized(5_000, 25)
REQUESTS = sized(30, 3)
TARGET_MS = 200.0
REVIEW_TARGET_MS = 300.0
ASSAYS = [  # code, name, units, stability in hours
    ("GLU", "Glucose", "mmol/L", 24),
    ("NA", "Sodium", "mmol/L", 48),
    ("K", "Potassium", "mmol/L", 12),
    ("CRP", "C-reactive protein", "mg/L", 72),
]
INSTRUMENTS = ["Analyser 1", "Analyser 2", "Analyser 3"]

# Samples of the completed lifecycles: released over the last 90 days, 2 to 32 hours after
# receipt; one in 40 rejected at receipt (no results, no signature).
_SEEDED_WITHOUT_TRIGGERS = (
    "samples_sample", "samples_sample_assays", "samples_result", "samples_retest",
    "samples_signature",
)  # fmt: skip

_REPORTED = """
INSERT INTO samples_sample (barcode, specimen_type, subject_ref, collected_at, priority, state,
    state_changed_at, run_id, registered_at, registered_by_id, received_at, received_by_id,
    receipt_condition, condition_amendment_reason, rejected_at, rejected_by_id,
    rejection_reason, released_at)
SELECT 'V-' || lpad(n::text, 7, '0'), 'serum', 'SUBJ-' || n, t.received - interval '1 hour',
    'routine', CASE WHEN n %% 40 = 0 THEN 'rejected' ELSE 'reported' END, t.released,
    md5('audit-volume-' || n)::uuid, t.received - interval '50 minutes', %(technician)s,
    CASE WHEN n %% 40 = 0 THEN NULL ELSE t.received END,
    CASE WHEN n %% 40 = 0 THEN NULL ELSE %(technician)s END,
    CASE WHEN n %% 40 = 0 THEN '' ELSE 'acceptable' END, '',
    CASE WHEN n %% 40 = 0 THEN t.received END, CASE WHEN n %% 40 = 0 THEN %(technician)s END,
    CASE WHEN n %% 40 = 0 THEN 'haemolysed beyond use' ELSE '' END,
    CASE WHEN n %% 40 = 0 THEN NULL ELSE t.released END
FROM generate_series(1, %(completed)s) AS n
CROSS JOIN LATERAL (
    SELECT now() - (%(completed)s - n) * interval '90 days' / %(completed)s AS released
) AS r
CROSS JOIN LATERAL (
    SELECT r.released, r.released - interval '2 hours'
        - ((n * 7919) %% 1800) * interval '1 minute' AS received
) AS t
ORDER BY n
"""

# Samples of the unfinished lifecycles (their runs are seeded below): still in the lab, in the
# state their run's status suggests, collected 1 to 73 hours before their run last changed.
_IN_LAB = """
INSERT INTO samples_sample (barcode, specimen_type, subject_ref, collected_at, priority, state,
    state_changed_at, run_id, registered_at, registered_by_id, received_at, received_by_id,
    receipt_condition, condition_amendment_reason, rejection_reason)
SELECT 'V-' || lpad(n::text, 7, '0'), 'plasma', 'SUBJ-' || n, t.collected,
    CASE WHEN n %% 9 = 0 THEN 'urgent' ELSE 'routine' END, t.state, t.changed,
    md5('console-bench-' || n)::uuid, t.collected + interval '20 minutes', %(technician)s,
    CASE WHEN t.state <> 'registered' THEN t.collected + interval '40 minutes' END,
    CASE WHEN t.state <> 'registered' THEN %(technician)s END,
    CASE WHEN t.state <> 'registered' THEN 'acceptable' ELSE '' END, '', ''
FROM generate_series(%(completed)s + 1, %(completed)s + %(unfinished)s) AS n
CROSS JOIN LATERAL (
    SELECT now() - ((n::bigint * 104729) %% 4320) * interval '1 minute' AS changed
) AS c
CROSS JOIN LATERAL (
    SELECT c.changed, c.changed - interval '1 hour' - (n %% 72) * interval '1 hour' AS collected,
        (ARRAY['registered', 'received', 'awaiting_batch', 'in_batch', 'resulted',
               'retest_pending'])[1 + n %% 6] AS state
) AS t
WHERE n %% 10 <> 0
ORDER BY n
"""

_ASSAYS = """
INSERT INTO samples_sample_assays (sample_id, assay_id)
SELECT s.id, (%(assays)s::int[])[1 + s.id %% 4] FROM samples_sample s
UNION ALL
SELECT s.id, (%(assays)s::int[])[1 + (s.id + 1) %% 4] FROM samples_sample s WHERE s.id %% 3 = 0
"""

# A result per ordered assay of each reported sample, recorded 50 minutes before release.
_RESULTS = """
INSERT INTO samples_result (sample_id, assay_id, value, units, flags, interpretation,
    instrument_id, entry_reason, measured_at, recorded_at, instrument_run_id, amendment_reason)
SELECT s.id, sa.assay_id, 3 + (s.id %% 500) / 100.0, 'mmol/L', '[]', '',
    (%(instruments)s::int[])[1 + s.id %% 3], '', s.state_changed_at - interval '1 hour',
    s.state_changed_at - interval '50 minutes', '', ''
FROM samples_sample s JOIN samples_sample_assays sa ON sa.sample_id = s.id
WHERE s.state = 'reported'
ORDER BY s.id, sa.assay_id
"""

# One result in 25 sent for a retest: the new result (named after the original by its
# instrument run, to link the two), the original superseded by it, and the retest.
_RETEST_RESULTS = """
INSERT INTO samples_result (sample_id, assay_id, value, units, flags, interpretation,
    instrument_id, entry_reason, measured_at, recorded_at, instrument_run_id, amendment_reason)
SELECT sample_id, assay_id, value + 0.1, units, '[]', '', instrument_id, '',
    measured_at + interval '20 minutes', recorded_at + interval '20 minutes', 'retest-' || id, ''
FROM samples_result WHERE id %% 25 = 0 ORDER BY id
"""
_SUPERSEDED = """
UPDATE samples_result o SET superseded_by_id = r.id
FROM samples_result r WHERE r.instrument_run_id = 'retest-' || o.id
"""
_RETEST_ROWS = """
INSERT INTO samples_retest (original_id, reason, requested_by_id, requested_at, new_result_id)
SELECT o.id, CASE WHEN o.id %% 2 = 0 THEN 'QC rule 1-3s failed' ELSE 'instrument flag' END,
    NULL, o.recorded_at + interval '5 minutes', o.superseded_by_id
FROM samples_result o WHERE o.superseded_by_id IS NOT NULL ORDER BY o.id
"""

# The reviewer's release of each reported sample (at its released_at); one in 50 signed again a
# day later.
_SIGNATURES = """
INSERT INTO samples_signature (sample_id, signer_id, printed_name, meaning, signed_at, content,
    content_sha256)
SELECT s.id, %(reviewer)s, 'Bench Reviewer', %(meaning)s, s.state_changed_at + g.later,
    jsonb_build_object('sample', s.barcode), encode(sha256(convert_to(s.barcode, 'UTF8')), 'hex')
FROM samples_sample s
CROSS JOIN (VALUES (interval '0'), (interval '1 day')) AS g(later)
WHERE s.state = 'reported' AND (g.later = interval '0' OR s.id %% 50 = 0)
ORDER BY s.id, g.later
"""

# Unfinished runs: one in ten a batch run, one in ten a lifecycle of version 1, the rest of
# version 2; 60 %% waiting, 15 %% running a step, 15 %% blocked, 10 %% failed; last changed
# within the last three days (as their samples).
_UNFINISHED_RUNS = """
INSERT INTO workflows_run (id, workflow, version, args, status, waiting_for, blocked_reason,
    error, needs_advance, last_seq, created_at, updated_at)
SELECT md5('console-bench-' || n)::uuid,
    CASE WHEN n %% 10 = 0 THEN 'batch_run' ELSE 'sample_lifecycle' END,
    CASE WHEN n %% 10 = 1 THEN 1 WHEN n %% 10 = 0 THEN 1 ELSE 2 END,
    CASE WHEN n %% 10 = 0 THEN jsonb_build_array(n) ELSE
        jsonb_build_array('V-' || lpad(n::text, 7, '0')) END,
    k.status,
    CASE k.status
        WHEN 'waiting' THEN (ARRAY['signal ''reception'' until ', 'signal ''batch'' until ',
            'signal ''result:GLU'' until ', 'signal ''review'''])[1 + n %% 4]
            || CASE WHEN n %% 4 <> 3 THEN to_char(c.changed + interval '20 hours',
                'YYYY-MM-DD HH24:MI') ELSE '' END
        WHEN 'running' THEN 'step ''samples.join_batch'''
        ELSE '' END,
    CASE k.status WHEN 'blocked' THEN 'the history does not match the code at command 5: '
        || 'it recorded step ''samples.route'', the code now asks for step '
        || '''samples.join_batch''' ELSE '' END,
    CASE k.status WHEN 'failed' THEN jsonb_build_object('type', 'LabError',
        'message', 'step samples.record_receipt failed 5 times: instrument timeout') END,
    false, 10, c.changed - interval '6 hours', c.changed
FROM generate_series(%(completed)s + 1, %(completed)s + %(unfinished)s) AS n
CROSS JOIN LATERAL (
    SELECT now() - ((n::bigint * 104729) %% 4320) * interval '1 minute' AS changed
) AS c
CROSS JOIN LATERAL (
    SELECT CASE WHEN n %% 20 < 12 THEN 'waiting' WHEN n %% 20 < 15 THEN 'running'
        WHEN n %% 20 < 18 THEN 'blocked' ELSE 'failed' END AS status
) AS k
"""

# Their histories, ten events each, inserted in order of run and sequence (the chain trigger
# hashes each after its predecessor).
_UNFINISHED_HISTORY = """
INSERT INTO workflows_historyevent (run_id, seq, kind, cmd, attempt, data, actor, reason,
    created_at)
SELECT r.id, e.seq,
    CASE WHEN e.seq = 10 AND r.status = 'failed' THEN 'step_failed' ELSE e.kind END,
    e.cmd, e.attempt, e.data, CASE WHEN e.seq IN (1, 3) THEN %(technician)s ELSE '' END, '',
    r.created_at + e.seq * interval '30 minutes'
FROM workflows_run r
CROSS JOIN (VALUES
    (1, 'run_started', NULL::int, NULL::int, '{"version": 2}'::jsonb),
    (2, 'wait_started', 1, NULL, '{"signal": "reception"}'),
    (3, 'signal_received', NULL, NULL,
     '{"name": "reception", "payload": {"action": "receive", "condition": "acceptable"}}'),
    (4, 'signal_consumed', 1, NULL,
     '{"signal_seq": 3, "payload": {"action": "receive", "condition": "acceptable"}}'),
    (5, 'step_scheduled', 2, NULL, '{"step": "samples.route", "args": []}'),
    (6, 'step_started', 2, 1, '{"step": "samples.route"}'),
    (7, 'step_completed', 2, 1, '{"step": "samples.route", "result": null}'),
    (8, 'step_scheduled', 3, NULL, '{"step": "samples.join_batch", "args": []}'),
    (9, 'step_started', 3, 1, '{"step": "samples.join_batch"}'),
    (10, 'wait_started', 4, NULL, '{"signal": "batch"}')
) AS e(seq, kind, cmd, attempt, data)
WHERE r.status NOT IN ('completed', 'cancelled')
ORDER BY r.id, e.seq
"""


def main() -> int:
    prepare_environment()
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    reviewer, barcode = seed()
    seeded = time.perf_counter() - began
    runs, events = volume()
    heading = (
        f"7. Operations console and dashboard with {runs:,} runs and {events:,} history "
        f"events ({REQUESTS} requests each after one warm-up, server time in process; "
        f"seeded in {seeded:.0f} s)"
    )
    print("\n" + title(heading))
    period = {"path": "/dashboard/period/", "headers": {"HX-Request": "true"}}
    pages = [
        ("runs list", "/workflows/runs/"),
        ("runs list, stuck", "/workflows/runs/?stuck=1"),
        ("runs list, waiting over 4 h", "/workflows/runs/?status=waiting&waiting=4"),
        ("runs list, search by barcode", f"/workflows/runs/?q={barcode}"),
        ("runs list, workflow and version", "/workflows/runs/?workflow=sample_lifecycle&version=2"),
        ("runs list, next page", None),
        ("dashboard, the page (figures of now)", "/dashboard/"),
        ("dashboard, the period (htmx)", period),
        ("dashboard, both one after the other", ["/dashboard/", period]),
        ("review queue", "/review/"),
    ]
    client = signed_in(reviewer)
    for name, path in pages:
        if path is None:
            path = "/workflows/runs/" + older_link(client.get("/workflows/runs/"))
        timings = measure(client, path)
        p50 = statistics.median(timings)
        p95 = timings[int(len(timings) * 0.95) - 1]
        target = REVIEW_TARGET_MS if path == "/review/" else TARGET_MS
        print(
            f"   {name:38} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
            f"(target: under {target:.0f} ms; p95 {p95 / target:.2f}x)"
        )
    return 0


def seed():
    """The database as described above; the reviewer who reads it and a barcode to search."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from samples.models import Assay, Instrument
    from samples.roles import Role, ensure_role_groups
    from samples.services.results import MEANING
    from tests.audit_volume import seed_trail

    ensure_role_groups()
    empty_database()
    users = get_user_model().objects
    technician, _ = users.get_or_create(username="bench-technician")
    reviewer, _ = users.get_or_create(username="bench-reviewer")
    reviewer.groups.add(*reviewer.groups.model.objects.filter(name=Role.REVIEWER.value))
    assays = []
    for code, name, units, hours in ASSAYS:
        assay, _ = Assay.objects.update_or_create(
            code=code, defaults={"name": name, "units": units, "stability_hours": hours}
        )
        assays.append(assay.pk)
    instruments = []
    for number, name in enumerate(INSTRUMENTS, start=1):
        service, _ = users.get_or_create(username=f"bench-instrument-{number}")
        instrument, _ = Instrument.objects.get_or_create(
            name=name,
            defaults={"model": "Bench", "serial": f"BENCH-{number}", "service_user": service},
        )
        instruments.append(instrument.pk)
    seed_trail(runs=COMPLETED, samples=0, technician=technician, reviewer=reviewer)
    params = {
        "completed": COMPLETED,
        "unfinished": UNFINISHED,
        "technician": technician.pk,
        "reviewer": reviewer.pk,
        "assays": assays,
        "instruments": instruments,
        "meaning": MEANING,
    }
    with connection.cursor() as cursor:
        cursor.execute(_UNFINISHED_RUNS, params)
        cursor.execute(_UNFINISHED_HISTORY, {"technician": technician.username})
        # The lab's rows without their audit events (neither page reads the trail; figure 6
        # measures it): their tables' triggers are off for these statements (the bench works
        # as the owner of the tables), whose rows are consistent as written.
        for table in _SEEDED_WITHOUT_TRIGGERS:
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        for sql in [
            _REPORTED,
            _IN_LAB,
            _ASSAYS,
            _RESULTS,
            _RETEST_RESULTS,
            _SUPERSEDED,
            _RETEST_ROWS,
            _SIGNATURES,
        ]:
            cursor.execute(sql, params)
            cursor.execute("ANALYZE samples_sample, samples_sample_assays, samples_result")
        for table in _SEEDED_WITHOUT_TRIGGERS:
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        # What the trigger on samples_sample writes when a run id is set (it was off above).
        cursor.execute(
            "INSERT INTO samples_runlink (run_id, barcode) "
            "SELECT run_id, barcode FROM samples_sample WHERE run_id IS NOT NULL"
        )
        cursor.execute("VACUUM ANALYZE")  # as autovacuum leaves a database in service
    return reviewer, f"V-{COMPLETED + UNFINISHED // 2 + 1:07d}"


def volume() -> tuple[int, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM workflows_run), "
            "(SELECT count(*) FROM workflows_historyevent)"
        )
        runs, events = cursor.fetchone()
    return runs, events


def signed_in(user):
    from django.test import Client

    client = Client(HTTP_HOST="localhost")  # an allowed host, as a browser on this machine
    client.force_login(user)
    return client


def older_link(response) -> str:
    """The page's "Older changes" link (the view's ``older``), as the browser follows it."""
    import html
    import re

    found = re.search(r'href="(\?[^"]*before=[^"]*)"', response.content.decode())
    if found is None:
        raise RuntimeError("the runs list has no link to older changes")
    return html.unescape(found.group(1))


def measure(client, requests) -> list[float]:
    """Milliseconds per request (or per list of requests, made one after the other), sorted,
    after one round to warm up. A request is a path, or a path with headers."""
    if not isinstance(requests, list):
        requests = [requests]
    requests = [r if isinstance(r, dict) else {"path": r, "headers": {}} for r in requests]
    timings = []
    for attempt in range(REQUESTS + 1):
        began = time.perf_counter()
        for request in requests:
            response = client.get(request["path"], headers=request["headers"])
            if response.status_code != 200:
                raise RuntimeError(f"{request['path']} answered {response.status_code}")
        elapsed = (time.perf_counter() - began) * 1000
        if attempt:
            timings.append(elapsed)
    return sorted(timings)


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
    sys.exit(run(main, "the console bench"))
