"""``make bench``: Westgard evaluation of control results with 10,000 results per control lot
in the database. Prints figures; asserts nothing.

Seeded in the bench's own database: one assay (GLU) on one instrument, two control lots (levels
1 and 2), each with 10,000 earlier results in bulk (one SQL statement a lot, measured a minute
apart over the last week). Then, for each lot in turn, results are recorded through the service
every door calls (``services.control_record``: the lot locked, its position in a running batch
found, its last 9 results read by the index ``control_result_history``, the rules evaluated,
the result stored with its audit event and the batch's run signalled), each in a batch whose
run was started before timing (a run of a bench workflow waiting for the signal, run in this
process: nothing is sent to a worker). Timed: each ``control_record`` call, in ms; and the pure
evaluation (``samples.values.westgard.evaluate`` with 9 previous results), in ms per result
over 100,000 evaluations. With ``BENCH_SIZE=small`` (``make bench-smoke``): 200 results a lot,
20 recorded, 2,000 evaluations.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
import warnings
from decimal import Decimal

from tests.bench.common import empty_database, prepare_environment, run, sized, title

HISTORY = sized(10_000, 200)  # results per lot before the timed ones
RECORDED = sized(200, 20)  # control_record calls timed per lot
EVALUATIONS = sized(100_000, 2_000)
LOTS = [
    ("QC-GLU-1", "1", Decimal("5.5"), Decimal("0.15")),
    ("QC-GLU-2", "2", Decimal("16.5"), Decimal("0.45")),
]

# A lot's history: values around the mean (within ±1.5 SD, a fixed pattern), one a minute.
_HISTORY = """
INSERT INTO samples_controlresult (control_id, lot_id, value, units, rules, verdict,
    instrument_id, entry_reason, measured_at, recorded_at)
SELECT %(position)s, %(lot)s, %(mean)s + %(sd)s * (((n * 7919) %% 31) - 15) / 10.0, 'mmol/L',
    '[]', 'in_control', %(instrument)s, '', t.at, t.at
FROM generate_series(1, %(count)s) AS n
CROSS JOIN LATERAL (SELECT now() - (%(count)s - n + 60) * interval '1 minute' AS at) AS t
ORDER BY n
"""


def seed():
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from samples import services
    from samples.models import (
        Assay,
        Batch,
        BatchControl,
        BatchStatus,
        ControlLot,
        ControlMaterial,
    )

    empty_database()

    assay = Assay.objects.create(
        code="GLU", name="Glucose", units="mmol/L", batch_capacity=96,
        batch_close_after=timedelta(hours=1), stability_hours=24, max_retests=1,
    )  # fmt: skip
    instrument, _token = services.instrument_register(
        # A new instrument each run: accounts are never deleted, so never reused.
        name=f"QC-bench-{uuid.uuid4().hex[:8]}",
        model="bench",
        serial=uuid.uuid4().hex,
        assay_codes=["GLU"],
    )
    lots = []
    for code, level, mean, sd in LOTS:
        material = ControlMaterial.objects.create(name="Bench control", level=level)
        lot = ControlLot.objects.create(
            material=material, lot_number="B1", assay=assay, instrument=instrument, code=code,
            target_mean=mean, target_sd=sd,
        )  # fmt: skip
        past = Batch.objects.create(
            assay=assay, status=BatchStatus.COMPLETED, capacity=96, instrument=instrument,
            opened_at=timezone.now() - timedelta(days=8),
        )  # fmt: skip
        position = BatchControl.objects.create(batch=past, lot=lot, position=1)
        with connection.cursor() as cursor:
            cursor.execute(
                _HISTORY,
                {
                    "position": position.pk, "lot": lot.pk, "mean": mean, "sd": sd,
                    "instrument": instrument.pk, "count": HISTORY,
                },
            )  # fmt: skip
        lots.append(lot)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE samples_controlresult")
    return instrument, lots


def running_batches(lot, instrument, count: int) -> None:
    """``count`` batches running on ``instrument`` with a position for ``lot``, each with a
    run of the bench workflow waiting for its control."""
    from django.utils import timezone

    from samples.models import Batch, BatchControl, BatchStatus
    from workflows.api import start

    for _ in range(count):
        run_id = start("bench.controls", lot.code)
        batch = Batch.objects.create(
            assay=lot.assay, status=BatchStatus.RUNNING, capacity=96, instrument=instrument,
            opened_at=timezone.now(), run_started_at=timezone.now(), run_id=run_id,
        )  # fmt: skip
        BatchControl.objects.create(batch=batch, lot=lot, position=1)


def main() -> int:
    prepare_environment()
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    import tests.bench.bench_defs  # noqa: F401  (registers the bench workflows)
    from samples import services
    from samples.values import westgard
    from workflows.ops import run_inline

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    instrument, lots = seed()
    seeded = time.perf_counter() - began
    print(
        "\n"
        + title(
            f"9. Westgard evaluation with {HISTORY:,} control results per lot ({len(lots)} lots; "
            f"seeded in {seeded:.0f} s)"
        )
    )
    with run_inline() as engine:
        for lot in lots:
            running_batches(lot, instrument, RECORDED)
            engine.run_until_idle()
            timings = []
            for n in range(RECORDED):
                value = lot.target_mean + lot.target_sd * Decimal((n % 7) - 3) / 2
                start = time.perf_counter()
                services.control_record(code=lot.code, value=str(value), instrument=instrument)
                timings.append((time.perf_counter() - start) * 1000)
            engine.run_until_idle()
            timings.sort()
            p95 = timings[max(int(len(timings) * 0.95) - 1, 0)]
            print(
                f"   control_record, {lot.code} ({RECORDED} results, real database): "
                f"p50 {statistics.median(timings):.2f} ms, p95 {p95:.2f} ms, "
                f"max {timings[-1]:.2f} ms"
            )
    previous = [Decimal("5.5") + Decimal(n % 5) / 100 for n in range(westgard.NEEDED)]
    start = time.perf_counter()
    for n in range(EVALUATIONS):
        westgard.evaluate(
            mean=Decimal("5.5"), sd=Decimal("0.15"), previous=previous, value=Decimal(n % 9)
        )
    per = (time.perf_counter() - start) * 1000 / EVALUATIONS
    print(f"   westgard.evaluate, pure ({EVALUATIONS:,} evaluations): {per:.4f} ms a result")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
    sys.exit(run(main, "the QC bench"))
