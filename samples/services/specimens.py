"""Samples at the bench: register, receive, reject, add to a batch; and what the lifecycle
records for them (its steps call ``sample_record_*`` and ``sample_mark``).

A bench action never changes a sample's state itself: it checks who asks and whether the
action is allowed now (COMPLIANCE.md C8, C9), then signals the sample's lifecycle workflow,
whose steps record the change. Each action's signal carries an idempotency key, so a second
scan of the same barcode records nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from samples.actors import actor_name
from samples.errors import LabError
from samples.lifecycle.names import LIFECYCLE
from samples.models import (
    Assay,
    ControlLot,
    Priority,
    ReceiptCondition,
    Retest,
    Sample,
    SampleState,
    SpecimenType,
    barcode_validator,
)
from samples.roles import Role
from samples.services.access import require_role
from samples.values import bounds
from samples.values.codes import code_clean
from samples.values.times import utc_text
from workflows.api import signal, start


@dataclass(frozen=True)
class Done:
    """What a bench action did, in words for the person who scanned."""

    message: str
    changed: bool = True


def sample_get(barcode: str) -> Sample:
    """The sample with this barcode (scanners may send lower case and spaces)."""
    cleaned = code_clean(barcode)
    sample = Sample.objects.filter(barcode=cleaned).first()
    if sample is None:
        raise LabError(
            f"Unknown barcode {cleaned or '(empty)'}: no sample is registered under it.",
            field="barcode",
        )
    return sample


def sample_register(
    *,
    user: Any,
    barcode: str,
    specimen_type: str,
    subject_ref: str,
    collected_at: datetime,
    assays: list[str],
    priority: str = Priority.ROUTINE,
) -> Sample:
    """Register a sample and start its lifecycle. All or nothing."""
    require_role(user, Role.TECHNICIAN)
    barcode = code_clean(barcode)
    try:
        barcode_validator(barcode)
    except ValidationError as error:
        raise LabError(error.messages[0], field="barcode") from None
    if ControlLot.objects.filter(code=barcode).exists():  # its results would be controls'
        raise LabError(
            f"{barcode} is the code of a control lot: give the sample another barcode.",
            field="barcode",
        )
    if specimen_type not in SpecimenType.values:
        raise LabError(f"Unknown specimen type {specimen_type!r}.", field="specimen_type")
    if priority not in Priority.values:
        raise LabError(f"Unknown priority {priority!r}.", field="priority")
    subject_ref = (subject_ref or "").strip()
    if not subject_ref or len(subject_ref) > 64:
        raise LabError("A subject reference (1 to 64 characters) is required.", field="subject_ref")
    bounds.moment(collected_at, field="collected_at", what="the collection time")
    codes = sorted({code_clean(code) for code in assays} - {""})
    if not codes:
        raise LabError("Order at least one assay.", field="assays")
    ordered = list(Assay.objects.filter(code__in=codes, is_active=True))
    unknown = sorted(set(codes) - {a.code for a in ordered})
    if unknown:
        raise LabError(f"Unknown or inactive assay(s): {', '.join(unknown)}.", field="assays")
    now = timezone.now()
    try:
        with transaction.atomic():
            sample = Sample.objects.create(
                barcode=barcode,
                specimen_type=specimen_type,
                subject_ref=subject_ref,
                collected_at=collected_at,
                priority=priority,
                registered_at=now,
                registered_by=user,
                state_changed_at=now,
            )
            sample.assays.set(ordered)
            run_id = start(LIFECYCLE, barcode, key=f"sample:{barcode}", actor=actor_name(user))
            Sample.objects.filter(pk=sample.pk).update(run_id=run_id)
            sample.run_id = run_id
    except IntegrityError:
        raise LabError(f"{barcode} is already registered.", field="barcode") from None
    return sample


def sample_receive(*, user: Any, barcode: str, condition: str) -> Done:
    """Receipt at reception, with the specimen's condition (C15)."""
    require_role(user, Role.TECHNICIAN)
    if condition not in ReceiptCondition.values:
        choices = ", ".join(ReceiptCondition.labels)
        raise LabError(f"Choose the condition at receipt: {choices}.", field="condition")
    sample = sample_get(barcode)
    if sample.state != SampleState.REGISTERED:
        return _already_past_reception(sample)
    payload = {
        "action": "receive",
        "condition": condition,
        "by": user.pk,
        "at": timezone.now().isoformat(),
    }
    if not _signal(sample, "reception", payload, user, "received at reception"):
        return Done(f"{sample.barcode}: a receipt or rejection was already recorded.", False)
    return Done(f"{sample.barcode} received ({ReceiptCondition(condition).label.lower()}).")


def sample_reject(*, user: Any, barcode: str, reason: str) -> Done:
    """Rejection of an unacceptable specimen, with the reason (C15)."""
    require_role(user, Role.TECHNICIAN)
    reason = (reason or "").strip()
    if not reason:
        raise LabError("A rejection needs a reason.", field="reason")
    sample = sample_get(barcode)
    if sample.state != SampleState.REGISTERED:
        return _already_past_reception(sample)
    payload = {
        "action": "reject",
        "reason": reason,
        "by": user.pk,
        "at": timezone.now().isoformat(),
    }
    if not _signal(sample, "reception", payload, user, reason):
        return Done(f"{sample.barcode}: a receipt or rejection was already recorded.", False)
    return Done(f"{sample.barcode} rejected: {reason}.")


def sample_request_batch(*, user: Any, barcode: str) -> Done:
    """Put the sample in the open batch of each assay it still needs a result for."""
    require_role(user, Role.TECHNICIAN)
    sample = sample_get(barcode)
    if sample.state == SampleState.AWAITING_BATCH:
        return Done(f"{sample.barcode} is already in an open batch.", False)
    if sample.state not in (SampleState.RECEIVED, SampleState.RETEST_PENDING):
        raise LabError(
            f"{sample.barcode} is {sample.get_state_display().lower()}: "
            "only a received sample, or one waiting for a retest, joins a batch."
        )
    rounds = Retest.objects.filter(original__sample=sample).count()
    if not _signal(
        sample, "batch", {"by": user.pk}, user, "added to the open batch", key=f"batch:{rounds}"
    ):
        return Done(f"{sample.barcode} is already on its way into a batch.", False)
    return Done(f"{sample.barcode} goes into the open batch.")


def _already_past_reception(sample: Sample) -> Done:
    if sample.state == SampleState.REJECTED:
        return Done(f"{sample.barcode} was rejected: {sample.rejection_reason}.", False)
    if sample.received_at is not None:
        when = utc_text(sample.received_at)
        return Done(f"{sample.barcode} was already received at {when}.", False)
    raise LabError(
        f"{sample.barcode} is {sample.get_state_display().lower()}: "
        "it can no longer be received or rejected."
    )


def _signal(
    sample: Sample,
    name: str,
    payload: dict[str, Any],
    user: Any,
    reason: str,
    key: str | None = None,
) -> bool:
    assert sample.run_id is not None, "a registered sample has a lifecycle"
    return signal(
        str(sample.run_id),
        name,
        payload,
        actor=actor_name(user),
        reason=reason,
        idempotency_key=f"{sample.barcode}:{key or name}",
    )


# --- what the lifecycle records (called by its steps) -------------------------------------------


def sample_mark(*, barcode: str, state: str) -> None:
    """Set the sample's displayed state (only the lifecycle's steps call this)."""
    Sample.objects.filter(barcode=barcode).update(state=state, state_changed_at=timezone.now())


def sample_record_receipt(*, barcode: str, condition: str, user_id: int, at: str) -> None:
    Sample.objects.filter(barcode=barcode, received_at__isnull=True).update(
        received_at=datetime.fromisoformat(at),
        received_by=get_user_model().objects.get(pk=user_id),
        receipt_condition=condition,
        state=SampleState.RECEIVED,
        state_changed_at=timezone.now(),
    )


def sample_record_rejection(*, barcode: str, reason: str, user_id: int, at: str) -> None:
    Sample.objects.filter(barcode=barcode, rejected_at__isnull=True).update(
        rejected_at=datetime.fromisoformat(at),
        rejected_by=get_user_model().objects.get(pk=user_id),
        rejection_reason=reason,
        state=SampleState.REJECTED,
        state_changed_at=timezone.now(),
    )
