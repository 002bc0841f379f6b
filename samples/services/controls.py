"""Control results recorded, whatever the door (the REST API, HL7, entered by hand on the batch
board), and evaluated by the Westgard rules over their lot's history (``samples.values.westgard``).

A control result is recorded for a control position (``BatchControl``) of its lot in a running
batch: the one given (by hand, from the batch board), or the oldest running batch on the lot's
instrument whose position for the lot has no result yet. It is recorded once, with the rules it
broke and its verdict, and the batch's run is signalled ``control:<lot code>`` with the result's
id and verdict (``samples.lifecycle.quality`` concludes the run's QC from them).

The rules read the lot's results measured up to the new one's measurement time, newest last
(the last ``westgard.NEEDED`` only: an indexed query, ``control_result_history``), so a result
arriving late is read against the results measured before it. The lot's row is locked while a
result is evaluated, so two results of one lot recorded at once are read one after the other.

A position takes one result. The same result sent again by its instrument (same value and
measurement time) is a repeat: answered with the result recorded the first time, nothing new.
Any other second result for a position is refused: a control is evaluated once per run; to
measure it again, run the batch again (a supervisor's decision).

Refusals (``LabError``, nothing written): an unknown lot, a lot no longer in use or expired, a
value that is not a number within what a result can be (``samples.values.bounds``; typed by a
person, a decimal comma reads as a point), units other than the assay's, an instrument other
than the lot's, no running batch with a position for the lot, a result by hand without a reason
or from anyone but a technician.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from samples.actors import actor_name
from samples.errors import LabError
from samples.models import (
    BatchControl,
    BatchStatus,
    ControlLot,
    ControlResult,
    Instrument,
)
from samples.roles import Role
from samples.services.access import require_role
from samples.services.recording import decimal_value
from samples.values import bounds, westgard
from samples.values.codes import code_clean
from workflows.api import signal


@dataclass(frozen=True)
class ControlRecorded:
    """A control result recorded now, or (``repeated``) the one recorded when it was first sent."""

    result: ControlResult
    repeated: bool = False


def control_record(
    *,
    code: str,
    value: Any,
    units: str = "",
    assay_code: str = "",
    measured_at: datetime | None = None,
    instrument: Instrument | None = None,
    user: Any = None,
    reason: str = "",
    batch_id: int | None = None,
    message: Any = None,
) -> ControlRecorded:
    """Record a control result of the lot ``code`` from ``instrument``, or entered by hand by a
    technician with a ``reason`` (``batch_id``: the batch it was run in); evaluate it and tell
    the batch's run."""
    typed = instrument is None
    if typed:
        require_role(user, Role.TECHNICIAN)
        reason = (reason or "").strip()
        if not reason:
            raise LabError(
                "A control result entered by hand needs a reason (for example: instrument "
                "interface down).",
                field="reason",
            )
    lot = _usable_lot(code)
    number = decimal_value(value, typed=typed, assay=lot.assay)
    if assay_code and code_clean(assay_code) != lot.assay.code:
        raise LabError(
            f"Control {lot.code} is a control of {lot.assay.code}, not {code_clean(assay_code)}.",
            field="assay",
        )
    units = (units or "").strip() or lot.assay.units
    if units != lot.assay.units:
        raise LabError(
            f"{lot.assay.code} is reported in {lot.assay.units or 'no units'}, not {units}.",
            field="units",
        )
    if measured_at is not None:
        bounds.measured(measured_at)
    if instrument is not None and instrument.pk != lot.instrument_id:
        raise LabError(
            f"Control {lot.code} is set up for {lot.instrument.name}, not {instrument.name}: "
            "its results come from that instrument only.",
            field="instrument",
        )
    with transaction.atomic():
        # One lot's results are evaluated one after the other: each reads the ones before.
        ControlLot.objects.select_for_update().filter(pk=lot.pk).first()
        position, first = _position(lot, batch_id)
        if first is not None:
            if instrument is not None and _same(first, instrument, number, measured_at):
                return ControlRecorded(first, repeated=True)
            raise LabError(
                f"Control {lot.code} in batch {position.batch_id} already has its result "
                f"({first.value.normalize():f} {first.units}, {first.get_verdict_display()}): a "
                "control is evaluated once in a run. To measure it again, run the batch again."
            )
        now = timezone.now()
        measured = measured_at or now
        evaluation = westgard.evaluate(
            mean=lot.target_mean,
            sd=lot.target_sd,
            previous=control_history(lot.pk, measured),
            value=number,
        )
        result = ControlResult.objects.create(
            control=position,
            lot=lot,
            value=number,
            units=units,
            rules=list(evaluation.rules),
            verdict=evaluation.verdict,
            instrument=instrument,
            entered_by=None if instrument else user,
            entry_reason=reason,
            message=message,
            measured_at=measured,
            recorded_at=now,
        )
        batch = position.batch
        signal(
            str(batch.run_id),
            f"control:{lot.code}",
            {"control_result_id": result.pk, "verdict": result.verdict},
            actor=actor_name(instrument.service_user if instrument else user),
            reason=reason,
            idempotency_key=f"control:{result.pk}",
        )
    return ControlRecorded(result)


def control_history(lot_id: int, measured: datetime) -> list[Decimal]:
    """The values of the lot's results measured up to ``measured``, newest last: the last
    ``westgard.NEEDED`` only (index ``control_result_history``)."""
    values = (
        ControlResult.objects.filter(lot_id=lot_id, measured_at__lte=measured)
        .order_by("-measured_at", "-id")
        .values_list("value", flat=True)[: westgard.NEEDED]
    )
    return list(reversed(values))


def _usable_lot(code: str) -> ControlLot:
    cleaned = code_clean(code)
    lot = (
        ControlLot.objects.select_related("assay", "instrument", "material")
        .filter(code=cleaned)
        .first()
    )
    if lot is None:
        raise LabError(
            f"Unknown control {cleaned or '(empty)'}: no control lot has that code.",
            field="control",
        )
    if not lot.is_active:
        raise LabError(f"Control lot {lot.code} is no longer in use.", field="control")
    if lot.expires_on is not None and lot.expires_on < timezone.localdate():
        raise LabError(
            f"Control lot {lot.code} expired on {lot.expires_on:%Y-%m-%d}: its results are not "
            "taken.",
            field="control",
        )
    if lot.assay.is_qualitative:  # set-up refuses it; a lot set up before is refused here
        raise LabError(f"Control lot {lot.code} is of a qualitative assay.", field="control")
    return lot


def _position(lot: ControlLot, batch_id: int | None) -> tuple[BatchControl, ControlResult | None]:
    """The position of ``lot`` in the running batch (``batch_id``'s, or the oldest running on
    its instrument whose position has no result yet), locked, and its result if it has one."""
    positions = list(
        BatchControl.objects.select_for_update(of=("self",))
        .select_related("batch")
        .filter(lot=lot, batch__status=BatchStatus.RUNNING)
        .filter(**({"batch_id": batch_id} if batch_id is not None else {}))
        .order_by("batch__run_started_at", "pk")
    )
    if not positions:
        where = f"Batch {batch_id} is not running with" if batch_id else "No running batch has"
        raise LabError(
            f"{where} a position for control {lot.code} on {lot.instrument.name}: a control's "
            "result is taken once its batch's run has started on its instrument."
        )
    taken = {
        r.control_id: r for r in ControlResult.objects.filter(control__in=positions).order_by("-pk")
    }
    free = [p for p in positions if p.pk not in taken]
    if free:
        return free[0], None
    return positions[-1], taken[positions[-1].pk]


def _same(
    first: ControlResult, instrument: Instrument, value: Decimal, measured: datetime | None
) -> bool:
    return (
        first.instrument_id == instrument.pk
        and first.value == value
        and (measured is None or first.measured_at == measured)
    )
