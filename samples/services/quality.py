"""Quality control of batch runs (CLIA 42 CFR 493.1256): the controls a run carries.

When a technician starts a batch's run (``batches.batch_start_run``), each active control lot
of the batch's assay on the run's instrument, not expired, takes a position after the samples'
(the plate map shows it) and the batch's QC becomes pending: its patient results are held
until the run's controls are in and accepted. A run on ``batch_run`` version 1 (a batch opened
before quality control came) carries no controls.
"""

from __future__ import annotations

from django.utils import timezone

from samples.errors import LabError
from samples.lifecycle.names import BATCH_RUN
from samples.models import Batch, BatchControl, ControlLot, QcStatus
from workflows.api import get_run

# The first version of ``batch_run`` that waits for its controls; every later one does too.
CONTROLLED_FROM_VERSION = 2


def controls_place(batch: Batch) -> list[BatchControl]:
    """Give the run of ``batch`` (locked, its instrument chosen) its control positions and
    set its QC status; called once, as the run starts. A run with control lots set up for
    its assay must name its instrument: lots are set up per instrument."""
    if not _run_waits_for_controls(batch):
        return []
    lots = ControlLot.objects.filter(assay=batch.assay_id, is_active=True).exclude(
        expires_on__lt=timezone.localdate()
    )
    if batch.instrument_id is None:
        if lots.exists():
            raise LabError(
                f"Choose the instrument: control lots for {batch.assay.code} are set up per "
                "instrument.",
                field="instrument",
            )
        return []
    chosen = list(lots.filter(instrument=batch.instrument_id).order_by("code"))
    after = batch.members.count()
    placed = [
        BatchControl.objects.create(batch=batch, lot=lot, position=after + i)
        for i, lot in enumerate(chosen, start=1)
    ]
    batch.qc_status = QcStatus.PENDING if placed else QcStatus.NOT_REQUIRED
    batch.save(update_fields=["qc_status"])
    return placed


def _run_waits_for_controls(batch: Batch) -> bool:
    if batch.run_id is None:
        return False
    run = get_run(str(batch.run_id), history=False)
    return run.workflow == BATCH_RUN and run.version >= CONTROLLED_FROM_VERSION
