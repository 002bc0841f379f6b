"""``make bench``: server time of a scan lookup at the scan station with 100,000 samples in the
database (target: p95 under 50 ms). Prints figures; asserts nothing.

The samples are inserted in bulk, each with a lifecycle run waiting for its receipt (as after
registration), in the bench's own database. Lookups go through the whole Django stack
in-process (middleware, session, view, selectors, template), timed from request to response.
With ``BENCH_SIZE=small`` (``make bench-smoke``): 500 samples and 30 lookups.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import uuid
import warnings
from datetime import timedelta

from tests.bench.common import empty_database, prepare_environment, run, sized, title

SAMPLES = sized(100_000, 500)
LOOKUPS = sized(300, 30)


def main() -> int:
    prepare_environment()
    # Static files are not collected for a bench run; whitenoise would say so on every start.
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed()
    timings = measure()
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    heading = f"4. Scan lookup with {SAMPLES:,} samples ({LOOKUPS} lookups, server time in process)"
    print("\n" + title(heading))
    print(f"   p50 {p50 * 1000:7.2f} ms   p95 {p95 * 1000:7.2f} ms   (target: p95 under 50 ms)")
    return 0


def seed() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from samples.models import Assay, Sample
    from samples.roles import Role, ensure_role_groups

    ensure_role_groups()
    empty_database()
    user, _ = get_user_model().objects.get_or_create(username="bench-technician")
    user.groups.add(*user.groups.model.objects.filter(name=Role.TECHNICIAN.value))
    assay, _ = Assay.objects.get_or_create(
        code="GLU", defaults={"name": "Glucose", "units": "mmol/L"}
    )
    now = timezone.now()
    with transaction.atomic():
        rows = []
        for n in range(SAMPLES):
            rows.append(
                Sample(
                    barcode=f"S-{n:06d}",
                    specimen_type="serum",
                    subject_ref=f"SUBJ-{n}",
                    collected_at=now - timedelta(minutes=n % 600),
                    registered_at=now,
                    registered_by=user,
                    state_changed_at=now,
                    run_id=uuid.uuid4(),
                )
            )
        Sample.objects.bulk_create(rows, batch_size=5000)
        through = Sample.assays.through
        ids = Sample.objects.values_list("pk", flat=True)
        through.objects.bulk_create(
            [through(sample_id=i, assay_id=assay.pk) for i in ids], batch_size=10000
        )
        with connection.cursor() as cursor:
            # A lifecycle run per sample, waiting for its receipt, as after registration.
            cursor.execute("""
                INSERT INTO workflows_run (id, workflow, version, args, status, waiting_for,
                    blocked_reason, needs_advance, last_seq, created_at, updated_at)
                SELECT run_id, 'sample_lifecycle', 2, jsonb_build_array(barcode), 'waiting',
                    'signal ''reception''', '', false, 2, now(), now()
                FROM samples_sample""")
            cursor.execute("""
                INSERT INTO workflows_historyevent (run_id, seq, kind, cmd, data, actor, reason,
                    created_at)
                SELECT run_id, 1, 'run_started', NULL, '{}'::jsonb, 'bench-technician', '', now()
                FROM samples_sample
                UNION ALL
                SELECT run_id, 2, 'wait_started', 2, '{"signal": "reception"}'::jsonb, '', '',
                    now()
                FROM samples_sample""")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure() -> list[float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client(HTTP_HOST="localhost")  # an allowed host, as a browser on this machine
    client.force_login(get_user_model().objects.get(username="bench-technician"))
    timings = []
    for _ in range(LOOKUPS):
        barcode = f"S-{random.randrange(SAMPLES):06d}"
        began = time.perf_counter()
        response = client.post("/scan/", {"barcode": barcode}, HTTP_HX_REQUEST="true")
        timings.append(time.perf_counter() - began)
        if response.status_code != 200 or barcode.encode() not in response.content:
            raise RuntimeError(f"the lookup of {barcode} failed: {response.status_code}")
    return timings


if __name__ == "__main__":
    sys.exit(run(main, "the scan bench"))
