"""Demo quality control: a control material at two levels, a lot of each for GLU and K on the
demo instrument, and a month of their history (one result a day), so the QC page and its
Levey-Jennings charts show something: steady runs, a warning, and rejections by 2-2s, 4-1s and
R-4s. The history stands for runs made before LabTrack: past completed batches, one a day per
assay, each result evaluated by the same rules as a result recorded today
(``samples.values.westgard``)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from samples.demo import data as demo
from samples.models import (
    Assay,
    Batch,
    BatchControl,
    BatchStatus,
    ControlLot,
    ControlMaterial,
    ControlResult,
    Instrument,
)
from samples.values import westgard


@transaction.atomic
def demo_quality_seed() -> int:
    """Create the demo control lots and their history once; returns how many results were
    created (0 if the lots exist)."""
    if ControlLot.objects.filter(code__in=[s.code for s in demo.DEMO_CONTROL_LOTS]).exists():
        return 0
    instrument = Instrument.objects.get(name=demo.DEMO_INSTRUMENT_NAME)
    name, manufacturer, lot_number = demo.DEMO_CONTROL_MATERIAL
    now = timezone.now()
    days = max(len(spec.history) for spec in demo.DEMO_CONTROL_LOTS)
    batches: dict[tuple[str, int], Batch] = {}
    created = 0
    for spec in demo.DEMO_CONTROL_LOTS:
        assay = Assay.objects.get(code=spec.assay)
        material, _ = ControlMaterial.objects.get_or_create(
            name=name, level=spec.level, defaults={"manufacturer": manufacturer}
        )
        lot = ControlLot.objects.create(
            material=material,
            lot_number=lot_number,
            assay=assay,
            instrument=instrument,
            code=spec.code,
            target_mean=spec.mean,
            target_sd=spec.sd,
            expires_on=(now + timedelta(days=180)).date(),
        )
        values: list[Decimal] = []
        for day, z in enumerate(spec.history):
            measured = now - timedelta(days=days - day, hours=2)
            batch = batches.get((spec.assay, day))
            if batch is None:
                batch = batches[spec.assay, day] = Batch.objects.create(
                    assay=assay,
                    status=BatchStatus.COMPLETED,
                    capacity=assay.batch_capacity,
                    opened_at=measured - timedelta(hours=1),
                    closed_at=measured - timedelta(minutes=30),
                    run_started_at=measured - timedelta(minutes=20),
                    completed_at=measured + timedelta(minutes=30),
                    instrument=instrument,
                )
            position = BatchControl.objects.create(
                batch=batch, lot=lot, position=1 + batch.controls.count()
            )
            value = (spec.mean + Decimal(str(z)) * spec.sd).quantize(Decimal("0.01"))
            evaluation = westgard.evaluate(mean=spec.mean, sd=spec.sd, previous=values, value=value)
            ControlResult.objects.create(
                control=position,
                lot=lot,
                value=value,
                units=assay.units,
                rules=list(evaluation.rules),
                verdict=evaluation.verdict,
                instrument=instrument,
                measured_at=measured,
                recorded_at=measured,
            )
            values.append(value)
            created += 1
    return created
