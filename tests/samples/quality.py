"""Quality control for the tests: a control material at two levels, lots for GLU on the lab's
instrument, and a running batch carrying their positions (its run on ``batch_run`` version 2
or later, which waits for them: ``services.batch_start_run`` -> ``quality.controls_place``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from samples import services
from samples.models import (
    Batch,
    BatchControl,
    BatchStatus,
    ControlLot,
    ControlMaterial,
    ControlResult,
    QcVerdict,
)


def make_lot(
    instrument, *, code="QC-GLU-1", level="1", mean="5.0", sd="0.2", assay="GLU", **fields
) -> ControlLot:
    material, _ = ControlMaterial.objects.get_or_create(
        name="Lyphochek Assayed Chemistry", level=level, defaults={"manufacturer": "Bio-Rad"}
    )
    return ControlLot.objects.create(
        material=material,
        lot_number=fields.pop("lot_number", f"L{level}-24051"),
        assay=instrument.assays.get(code=assay),
        instrument=instrument,
        code=code,
        target_mean=Decimal(mean),
        target_sd=Decimal(sd),
        **fields,
    )


def run_with_controls(lab, barcode: str = "S-000971") -> Batch:
    """``barcode`` registered, received and in a GLU batch whose run started on the lab's
    instrument: the batch has a position for each active lot of GLU on it."""
    lab.register(barcode)
    lab.receive(barcode)
    lab.to_batch(barcode)
    lab.close_batches()
    batch = Batch.objects.get(members__sample__barcode=barcode)
    services.batch_start_run(
        user=lab.technician, batch_id=batch.pk, instrument_id=lab.instrument.pk
    )
    lab.env.run_until_idle()
    batch.refresh_from_db()
    return batch


def history(lot: ControlLot, *values: str, instrument=None) -> list[ControlResult]:
    """Earlier results of ``lot`` (in control as written: these tests set the history, and the
    rules read it), measured a day apart up to an hour ago. Written as a past run's records."""
    start = timezone.now() - timedelta(days=len(values), hours=1)
    past = Batch.objects.create(
        assay=lot.assay, status=BatchStatus.COMPLETED, capacity=1, instrument=lot.instrument,
        opened_at=start,
    )  # fmt: skip
    position = BatchControl.objects.create(batch=past, lot=lot, position=1)
    return [
        ControlResult.objects.create(
            control=position,
            lot=lot,
            value=Decimal(v),
            units=lot.assay.units,
            rules=[],
            verdict=QcVerdict.IN_CONTROL,
            instrument=instrument or lot.instrument,
            measured_at=start + timedelta(days=i),
            recorded_at=start + timedelta(days=i),
        )
        for i, v in enumerate(values)
    ]
