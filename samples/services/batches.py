"""Batches: samples join the one open batch of an assay, a batch closes when full or when its
closing time comes (its ``batch_run`` workflow decides), a technician starts its run, and it
completes when every member has a result."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from samples.actors import actor_name
from samples.errors import LabError
from samples.lifecycle.names import BATCH_RUN
from samples.models import Assay, Batch, BatchMember, BatchStatus, Instrument, Sample
from samples.roles import Role
from samples.services.access import require_role
from samples.services.quality import controls_place
from workflows.api import signal, start


def batch_join(*, barcode: str, assay_code: str, join_key: str) -> dict[str, int]:
    """Add the sample to the open batch of the assay (opening one, and its workflow, if there
    is none, or if the open one is full); the batch is told when it is full. A batch never
    holds more than its capacity, however many samples join at once: joiners of an assay take
    its row's lock in turn, and the database refuses a position past the capacity. Returns the
    batch and the plate position. ``join_key`` makes a repeated call (a retried step) return
    the first answer."""
    existing = BatchMember.objects.filter(join_key=join_key).first()
    if existing is not None:
        return {"batch_id": existing.batch_id, "position": existing.position}
    sample = Sample.objects.get(barcode=barcode)
    now = timezone.now()
    with transaction.atomic():
        # One joiner per assay at a time: positions stay dense and a full batch stays full.
        assay = Assay.objects.select_for_update().get(code=assay_code)
        batch = (
            Batch.objects.select_for_update().filter(assay=assay, status=BatchStatus.OPEN).first()
        )
        if batch is not None and batch.members.count() >= batch.capacity:
            # Full, and told so, but its run has not closed it yet: closed now, so this sample
            # opens the next batch instead of taking a position past the capacity.
            batch.status, batch.closed_at = BatchStatus.CLOSED, now
            batch.save(update_fields=["status", "closed_at"])
            batch = None
        if batch is None:
            batch = Batch.objects.create(assay=assay, capacity=assay.batch_capacity, opened_at=now)
            run_id = start(BATCH_RUN, batch.pk, key=f"batch:{batch.pk}", actor="lifecycle")
            Batch.objects.filter(pk=batch.pk).update(run_id=run_id)
            batch.run_id = run_id
        position = batch.members.count() + 1
        BatchMember.objects.create(
            batch=batch, sample=sample, position=position, added_at=now, join_key=join_key
        )
        if position >= batch.capacity:
            signal(
                str(batch.run_id),
                "full",
                {"members": position},
                actor="lifecycle",
                reason=f"{position} of {batch.capacity} positions taken",
                idempotency_key="full",
            )
    return {"batch_id": batch.pk, "position": position}


def batch_close(*, batch_id: int) -> list[dict[str, Any]]:
    """Close an open batch and tell each member's lifecycle its plate position."""
    now = timezone.now()
    with transaction.atomic():
        # The assay's lock first, as joiners take it: nobody joins while the batch closes.
        assay_id = Batch.objects.values_list("assay_id", flat=True).get(pk=batch_id)
        Assay.objects.select_for_update().get(pk=assay_id)
        batch = Batch.objects.select_for_update().select_related("assay").get(pk=batch_id)
        if batch.status == BatchStatus.OPEN:
            batch.status, batch.closed_at = BatchStatus.CLOSED, now
            batch.save(update_fields=["status", "closed_at"])
        members = list(batch.members.select_related("sample").order_by("position"))
        for member in members:
            signal(
                str(member.sample.run_id),
                f"batched:{batch.assay.code}",
                {"batch_id": batch.pk, "position": member.position},
                actor="lifecycle",
                reason=f"batch {batch.pk} closed",
                idempotency_key=f"batched:{batch.pk}",
            )
    return [{"barcode": m.sample.barcode, "position": m.position} for m in members]


def batch_start_run(*, user: Any, batch_id: int, instrument_id: int | None = None) -> Batch:
    """A technician starts the instrument run of a closed batch; its controls take their
    positions (``quality.controls_place``)."""
    require_role(user, Role.TECHNICIAN)
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise LabError(f"There is no batch {batch_id}.")
        if batch.status == BatchStatus.OPEN:
            raise LabError(
                f"Batch {batch.pk} is still open: it closes when full or at its closing time."
            )
        if batch.status != BatchStatus.CLOSED:
            raise LabError(
                f"Batch {batch.pk} is {batch.get_status_display().lower()}: "
                "its run has already started."
            )
        instrument = None
        if instrument_id is not None:
            instrument = Instrument.objects.filter(
                pk=instrument_id, is_active=True, assays=batch.assay
            ).first()
            if instrument is None:
                raise LabError(
                    "Choose an active instrument that runs this assay.", field="instrument"
                )
        batch.status, batch.run_started_at = BatchStatus.RUNNING, timezone.now()
        batch.started_by, batch.instrument = user, instrument
        batch.save(update_fields=["status", "run_started_at", "started_by", "instrument"])
        controls_place(batch)
        signal(
            str(batch.run_id),
            "run_started",
            {"by": user.pk},
            actor=actor_name(user),
            reason="run started",
            idempotency_key="run_started",
        )
    return batch


def batch_mark_completed(*, batch_id: int) -> None:
    Batch.objects.filter(pk=batch_id, status=BatchStatus.RUNNING).update(
        status=BatchStatus.COMPLETED, completed_at=timezone.now()
    )
