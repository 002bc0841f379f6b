"""Corrections of entered data (COMPLIANCE.md C3): a result's value, a specimen's condition at
receipt. Each needs a reason and is recorded in the audit trail with it (the event keeps who,
when, the new value and the reason; the one before it the original value).

A result amended after its release makes the signature over it no longer valid (C12) and sends
the sample back to review: the first such amendment starts its correction workflow
(``samples.lifecycle.corrections``; the sample follows that run and shows "corrected after
release: awaiting review"), later ones before the re-release join it. Once a reviewer signs the
corrected results, the workflow stores a corrected report and sends the corrected results out.
A result cannot be corrected between the signature and the storing of its report (seconds):
the release under way is finished first."""

from __future__ import annotations

from typing import Any

import pghistory
from django.db import transaction
from django.utils import timezone

from samples.actors import actor_name
from samples.errors import LabError
from samples.lifecycle.names import CORRECTION
from samples.models import (
    ReceiptCondition,
    Result,
    Sample,
    SampleState,
)
from samples.roles import Role
from samples.services.access import require_role
from samples.services.critical import critical_amended
from samples.services.recording import result_reading
from samples.services.results import CRITICAL, interpretation_of
from workflows.api import start


def result_amend(*, user: Any, result_id: int, value: Any, reason: str) -> Result:
    """Correct a result's value, with a reason; the value first recorded stays visible. The
    flag is read again from the new value (``L``/``H``/``LL``/``HH``, as on evaluation): the
    audit event of the correction carries the flag before and after in its context, and a
    critical new value is marked for the reviewer (a value no longer critical is unmarked). A
    notification not yet called now names the new value (or is withdrawn, the value no longer
    critical); a critical new value with none, or differing from the value already called,
    opens a notification to call it: the sample is not signed until the call is recorded
    (``samples.services.critical``).
    A qualitative assay's result is corrected to another of its answers (its flag "A" or "")."""
    require_role(user, Role.TECHNICIAN, Role.REVIEWER)
    reason = (reason or "").strip()
    if not reason:
        raise LabError("A correction needs a reason.", field="reason")
    with transaction.atomic():
        owner = Result.objects.filter(pk=result_id).values_list("sample_id", flat=True).first()
        if owner is None:
            raise LabError(f"There is no result {result_id}.")
        # Locked as a signature locks it: an amendment and a signature never cross.
        sample = Sample.objects.select_for_update().get(pk=owner)
        _require_no_release_under_way(sample)
        result = (
            Result.objects.select_for_update(of=("self",))
            .select_related("assay")
            .filter(pk=result_id)
            .first()
        )
        if result is None:
            raise LabError(f"There is no result {result_id}.")
        if result.superseded_by_id is not None:
            raise LabError("This result was retested: correct the current one.")
        reading = result_reading(value, typed=True, assay=result.assay)
        number = None if isinstance(reading, str) else reading
        text = reading if isinstance(reading, str) else None
        if (number, text) == (result.value, result.text):
            raise LabError(f"The value is already {result.reading}.", field="value")
        before, after = result.interpretation, interpretation_of(result.assay, number, text)
        now = timezone.now()
        result.value, result.text, result.interpretation = number, text, after
        result.amendment_reason, result.amended_at, result.amended_by = reason, now, user
        if after not in CRITICAL:
            result.critical_flagged_at = None
        elif result.critical_flagged_at is None:
            result.critical_flagged_at = now
        context = {"flag_before": before, "flag_after": after}
        with pghistory.context(reason=reason, correction="result value", **context):
            result.save(
                update_fields=[
                    "value",
                    "text",
                    "interpretation",
                    "critical_flagged_at",
                    "amendment_reason",
                    "amended_at",
                    "amended_by",
                ]
            )
            # The value to call follows; a critical value other than the one called is called
            # again (its own notification); the event of each change keeps the reason.
            critical_amended(
                user=user,
                result=result,
                critical=after in CRITICAL,
                was_critical=before in CRITICAL,
                at=now,
                reason=reason,
            )
        if sample.released_at is not None:
            _back_to_review(sample=sample, user=user, result_id=result.pk, at=now)
    return result


def _require_no_release_under_way(sample: Sample) -> None:
    """Refuse while a signature's report is not stored yet: that release finishes first."""
    if sample.released_at is None:
        return
    signed = sample.signatures.order_by("signed_at").last()
    stored = sample.reports.order_by("number").last()
    if stored is None or (signed is not None and stored.created_at < signed.signed_at):
        raise LabError(
            f"{sample.barcode} was signed and its report is not stored yet: correct the "
            "result once the report is released."
        )


def _back_to_review(*, sample: Sample, user: Any, result_id: int, at: Any) -> None:
    """A released sample's result was corrected: its correction waits for review. One open
    correction at a time: an amendment made while one waits joins it."""
    if sample.state == SampleState.AMENDED:
        return
    run_id = start(
        CORRECTION,
        sample.barcode,
        key=f"correction:{result_id}:{at.isoformat()}",
        actor=actor_name(user),
    )
    # The sample follows its correction run (its lifecycle stays linked: ``RunLink``), and
    # shows at once that it waits for review, in the transaction that corrected it.
    Sample.objects.filter(pk=sample.pk).update(
        run_id=run_id, state=SampleState.AMENDED, state_changed_at=at
    )


def sample_amend_condition(*, user: Any, barcode: str, condition: str, reason: str) -> Sample:
    """Correct the condition a sample was received in, with a reason (C3)."""
    require_role(user, Role.TECHNICIAN)
    reason = (reason or "").strip()
    if not reason:
        raise LabError("A correction needs a reason.", field="reason")
    if condition not in ReceiptCondition.values:
        raise LabError(
            f"{condition or '(empty)'} is not a condition at receipt.", field="condition"
        )
    # Who corrected it goes into the event's context whatever the door (page, API, command).
    who = pghistory.context(reason=reason, correction="receipt condition", user=user.pk)
    with transaction.atomic(), who:
        sample = Sample.objects.select_for_update().filter(barcode=barcode).first()
        if sample is None or sample.received_at is None:
            raise LabError(f"{barcode} was not received: there is no condition to correct.")
        if sample.receipt_condition == condition:
            raise LabError(f"The condition is already {condition}.", field="condition")
        sample.receipt_condition, sample.condition_amendment_reason = condition, reason
        sample.condition_amended_at = timezone.now()
        sample.save(
            update_fields=[
                "receipt_condition",
                "condition_amendment_reason",
                "condition_amended_at",
            ]
        )
    return sample
