"""The corrections of a sample's results, read back from the audit trail: for each, the value
and flag before and after, who corrected it, when and why. The sample page's timeline and the
report show them, in the words of ``samples.selectors.words``. Reads only; corrections are made
by ``samples.services.amendments``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model

from samples.models import Result, ResultEvent, Sample, SampleEvent
from samples.selectors.words import correction


@dataclass(frozen=True)
class Correction:
    at: datetime
    assay: str
    units: str
    value_before: Decimal | str  # a number, or an answer of a qualitative assay
    value_after: Decimal | str
    flag_before: str  # "L", "H", "LL", "HH", "A" or "" (within the reference range)
    flag_after: str
    who: str
    reason: str

    @property
    def words(self) -> str:
        """ "GLU corrected from 3.2 to 4.9 mmol/L, flag L → none"."""
        return correction(
            assay=self.assay,
            units=self.units,
            value_before=self.value_before,
            value_after=self.value_after,
            flag_before=self.flag_before,
            flag_after=self.flag_after,
        )


def result_corrections(sample: Sample) -> list[Correction]:
    """Every correction of the sample's results, oldest first. A correction is the audit event
    that gave a result a new amendment time; the event before it holds what it replaced."""
    events = (
        ResultEvent.objects.filter(sample_id=sample.pk)
        .select_related("assay", "amended_by")
        .order_by("pgh_obj_id", "pgh_id")
    )
    corrections, before = [], None
    for event in events:
        if before is None or before.pgh_obj_id != event.pgh_obj_id:
            before = event
            continue
        if event.amended_at is not None and event.amended_at != before.amended_at:
            corrections.append(
                Correction(
                    at=event.amended_at,
                    assay=event.assay.code,
                    units=event.units,
                    value_before=_value(before),
                    value_after=_value(event),
                    flag_before=before.interpretation,
                    flag_after=event.interpretation,
                    who=event.amended_by.get_username() if event.amended_by else "",
                    reason=event.amendment_reason,
                )
            )
        before = event
    return sorted(corrections, key=lambda c: c.at)


@dataclass(frozen=True)
class ConditionCorrection:
    """A correction of the condition a sample was received in (labels, as people read them)."""

    at: datetime
    before: str
    after: str
    who: str
    reason: str


def condition_corrections(sample: Sample) -> list[ConditionCorrection]:
    """Every correction of the sample's condition at receipt, oldest first: the audit event
    that gave it a new amendment time, and the condition before it."""
    users = get_user_model()
    found, before = [], None
    for event in SampleEvent.objects.filter(pgh_obj_id=sample.pk).order_by("pgh_id"):
        moved = before is not None and event.condition_amended_at != before.condition_amended_at
        if before is not None and moved and event.condition_amended_at is not None:
            said = (event.pgh_context_snapshot or {}).get("user")
            user = users.objects.filter(pk=said).first() if isinstance(said, int) else None
            found.append(
                ConditionCorrection(
                    at=event.condition_amended_at,
                    before=before.get_receipt_condition_display(),
                    after=event.get_receipt_condition_display(),
                    who=user.get_username() if user else "",
                    reason=event.condition_amendment_reason,
                )
            )
        before = event
    return found


def result_amenders(results: list[Result]) -> set[int]:
    """Everyone who ever corrected one of these results (not only the last to): none of them
    may sign them (four eyes, COMPLIANCE.md C10)."""
    return set(
        ResultEvent.objects.filter(
            pgh_obj_id__in=[r.pk for r in results], amended_by__isnull=False
        ).values_list("amended_by_id", flat=True)
    )


def first_condition(sample: Sample) -> str:
    """The condition at receipt as first recorded (the first event that had one)."""
    first = (
        SampleEvent.objects.filter(pgh_obj_id=sample.pk)
        .exclude(receipt_condition="")
        .order_by("pgh_id")
        .first()
    )
    return first.get_receipt_condition_display() if first else ""


def _value(event: Any) -> Decimal | str:
    """A result's number or answer as an event (or the result itself) holds it."""
    return event.text if getattr(event, "text", None) is not None else event.value


def first_value(result: Result) -> Any:
    """The value (number or answer) as the result was first recorded (its first audit event)."""
    first = ResultEvent.objects.filter(pgh_obj_id=result.pk).order_by("pgh_id").first()
    return _value(first if first is not None else result)


def amendments(sample: Sample) -> dict[int, Any]:
    """For each amended current result of the sample, the value it was first recorded with."""
    return {r.pk: first_value(r) for r in sample.results.filter(amended_at__isnull=False)}
