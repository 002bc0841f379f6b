"""Quality control for the lab of the tests (``tests.samples.lab``): a control lot of GLU on the
lab's instrument, a run started on that instrument (its controls placed), and control results.

``control_post`` is the one place a test records a control result: through the lab's own
recording (``services.control_record``), which evaluates it and signals the batch's run
``control:<lot code>``.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from samples import services
from samples.models import (
    Batch,
    BatchStatus,
    ControlResult,
    QcVerdict,
)
from tests.samples import quality
from tests.samples.quality import history


def make_lot(instrument, code: str = "QC-GLU-1", level: str = "1", assay: str = "GLU"):
    """A lot of GLU (mean 5.0, SD 0.2) on ``instrument``, expiring in 90 days."""
    return quality.make_lot(
        instrument, code=code, level=level, assay=assay, lot_number=f"L-{code}",
        expires_on=timezone.localdate() + timedelta(days=90),
    )  # fmt: skip


def start_run_on_instrument(lab, assay: str = "GLU", user=None) -> Batch:
    """Start the closed batch's run on the lab's instrument: its controls take their places."""
    batch = Batch.objects.get(assay__code=assay, status=BatchStatus.CLOSED)
    services.batch_start_run(
        user=user or lab.technician, batch_id=batch.pk, instrument_id=lab.instrument.pk
    )
    lab.env.run_until_idle()
    batch.refresh_from_db()
    return batch


def control_post(
    lab, batch: Batch, code: str, value: str, verdict: str = QcVerdict.IN_CONTROL, rules=()
) -> ControlResult:
    """A control result of ``batch``'s run for lot ``code`` from the lab's instrument, recorded
    as the instrument's are (``services.control_record``: the Westgard rules over the lot's
    history, the signal its run waits for); ``verdict`` and ``rules``: what the rules must find."""
    result = services.control_record(
        code=code, value=value, instrument=lab.instrument, batch_id=batch.pk
    ).result
    assert (result.verdict, result.rules) == (verdict, list(rules))
    lab.env.run_until_idle()
    return result


def held_run(lab, barcodes=("S-000701",), value: str = "5.0", starter=None) -> Batch:
    """``barcodes`` received, batched and resulted in one GLU run on the lab's instrument whose
    control QC-GLU-1 broke 2-2s (after an earlier run's result above +2 SD): the run is rejected
    by QC and holds its results."""
    history(make_lot(lab.instrument), "5.45")
    for barcode in barcodes:
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    batch = start_run_on_instrument(lab, user=starter)
    for barcode in barcodes:
        lab.post(barcode, value)
    control_post(lab, batch, "QC-GLU-1", "5.5", QcVerdict.REJECTED, ["1-2s", "2-2s"])
    batch.refresh_from_db()
    return batch
