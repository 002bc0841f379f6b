"""Quality control for the lab of the tests (``tests.samples.lab``): a control material at two
levels, lots of GLU on the lab's instrument, earlier results of a lot, a run started on that
instrument carrying the lots' positions (its run on ``batch_run`` version 2 or later, which waits
for them: ``services.batch_start_run`` -> ``quality.controls_place``), and control results.

``control_post`` is the one place a test records a control result of a run: through the lab's
own recording (``services.control_record``), which evaluates it and signals the batch's run
``control:<lot code>``.
"""

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
from samples.selectors.words import history_words
from workflows.api import get_run


def make_lot(
    instrument, code="QC-GLU-1", *, level="1", mean="5.0", sd="0.2", assay="GLU", **fields
) -> ControlLot:
    """A lot of ``assay`` on ``instrument`` (by default GLU, mean 5.0, SD 0.2), expiring in 90
    days."""
    fields.setdefault("expires_on", timezone.localdate() + timedelta(days=90))
    material, _ = ControlMaterial.objects.get_or_create(
        name="Lyphochek Assayed Chemistry", level=level, defaults={"manufacturer": "Bio-Rad"}
    )
    return ControlLot.objects.create(
        material=material,
        lot_number=fields.pop("lot_number", f"L-{code}"),
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
    return start_run_on_instrument(lab)


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


def steps_done(batch: Batch) -> list[str]:
    """The steps the batch's run has completed, in order."""
    return [
        e.data["step"] for e in get_run(str(batch.run_id)).history if e.kind == "step_completed"
    ]


def said(batch: Batch) -> list[str]:
    """The batch run's history as the audit trail says it."""
    owner = f"{batch.assay.code} batch {batch.pk}"
    return [
        history_words(e.kind, e.data, record="batch", owner=owner)
        for e in get_run(str(batch.run_id)).history
    ]
