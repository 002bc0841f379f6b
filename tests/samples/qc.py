"""Quality control for the lab of the tests (``tests.samples.lab``): a control lot of GLU on the
lab's instrument, a run started on that instrument (its controls placed), and control results.

``control_post`` is the one place a test records a control result: it stores the result and
signals the batch's run ``control:<lot code>`` as the lab's control recording does, and is the
place to call that service from instead.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from samples import services
from samples.models import (
    Batch,
    BatchStatus,
    ControlLot,
    ControlMaterial,
    ControlResult,
    QcVerdict,
)
from workflows.api import signal


def make_lot(instrument, code: str = "QC-GLU-1", level: str = "1", assay: str = "GLU"):
    material, _ = ControlMaterial.objects.get_or_create(
        name="Lyphochek Assayed Chemistry", level=level
    )
    return ControlLot.objects.create(
        material=material, lot_number=f"L-{code}", assay=instrument.assays.get(code=assay),
        instrument=instrument, code=code, target_mean=Decimal("5.0"), target_sd=Decimal("0.2"),
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
    """A control result of ``batch``'s run for lot ``code``, and the signal its run waits for."""
    control = batch.controls.select_related("lot").get(lot__code=code)
    now = timezone.now()
    result = ControlResult.objects.create(
        control=control, lot=control.lot, value=Decimal(value), units="mmol/L",
        rules=list(rules), verdict=verdict, instrument=lab.instrument, measured_at=now,
        recorded_at=now,
    )  # fmt: skip
    signal(
        str(batch.run_id),
        f"control:{code}",
        {"control_result_id": result.pk, "verdict": str(verdict)},
        actor=lab.instrument.service_user.get_username(),
        idempotency_key=f"control:{result.pk}",
    )
    lab.env.run_until_idle()
    return result


def held_run(lab, barcodes=("S-000701",), value: str = "5.0", starter=None) -> Batch:
    """``barcodes`` received, batched and resulted in one GLU run on the lab's instrument whose
    control QC-GLU-1 broke 2-2s: the run is rejected by QC and holds its results."""
    make_lot(lab.instrument)
    for barcode in barcodes:
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    batch = start_run_on_instrument(lab, user=starter)
    for barcode in barcodes:
        lab.post(barcode, value)
    control_post(lab, batch, "QC-GLU-1", "5.5", QcVerdict.REJECTED, ["2-2s"])
    batch.refresh_from_db()
    return batch
