"""Results from instruments over the API: stored as the bytes received (with their SHA-256 and
the text for reading), matched to the samples waiting for them, recorded once however often
they are re-sent; what matches nothing goes to the unmatched inbox (never dropped)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from samples.errors import LabError
from samples.models import InstrumentMessage, Result, UnmatchedResult
from samples.roles import Role
from samples.services.access import require_role
from samples.services.recording import Incoming, Repeat, result_record, results_record

# Refusals that mean "this result is fine but no sample is waiting for it", or that it does not
# fit the sample it names (measured before that sample's collection: one of the two clocks, or
# the collection time typed, is wrong): the inbox keeps it for a person, nothing is lost.
UNMATCHED_FIELDS = {None, "barcode", "assay", "measured_at"}


def results_receive(
    *,
    client: Any,
    items: list[dict[str, Any]],
    raw_body: bytes,
    content_type: str,
    idempotency_key: str | None,
    kind: str = "results",
    charset: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """Record a message of results (already checked for shape). Returns the HTTP status (201
    all accepted, 202 some unmatched, 400 a value refused, nothing recorded) and the answer.
    A repeated ``idempotency_key`` returns the first answer and records nothing new. ``kind``
    names the message's format as stored ("results" for JSON, "hl7"); ``raw_body`` is the
    request body as received, ``charset`` the one its Content-Type named."""
    if idempotency_key:
        first = _first_answer(client, idempotency_key)
        if first is not None:
            return first
    try:
        return _receive(client, items, raw_body, content_type, idempotency_key, kind, charset)
    except IntegrityError:
        # Sent twice at once: with the same idempotency key, the first one's answer stands;
        # with the same instrument run, it is now a repeat.
        first = _first_answer(client, idempotency_key) if idempotency_key else None
        if first is not None:
            return first
        return _receive(client, items, raw_body, content_type, idempotency_key, kind, charset)


def _receive(
    client: Any,
    items: list[dict[str, Any]],
    raw_body: bytes,
    content_type: str,
    idempotency_key: str | None,
    kind: str,
    charset: str | None,
) -> tuple[int, dict[str, Any]]:
    instrument = client.instrument
    with transaction.atomic():
        message = InstrumentMessage.objects.create(
            client=client,
            instrument=instrument,
            kind=kind,
            content_type=content_type,
            raw=raw_body,
            sha256=hashlib.sha256(raw_body).hexdigest(),
            body=received_text(raw_body, charset),
            idempotency_key=idempotency_key,
            received_at=timezone.now(),
        )
        status, answer = _record(message, instrument, items)
        if status == 400:
            transaction.set_rollback(True)
            return status, answer
        message.status_code, message.answer = status, answer
        message.save(update_fields=["status_code", "answer"])
    return status, answer


def received_text(raw: bytes, charset: str | None = None) -> str:
    """A message's bytes as text for reading: in the charset its Content-Type named (UTF-8
    when none, or one Python does not know), a byte that is not text as U+FFFD."""
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def _first_answer(client: Any, idempotency_key: str) -> tuple[int, dict[str, Any]] | None:
    first = InstrumentMessage.objects.filter(client=client, idempotency_key=idempotency_key)
    message = first.only("status_code", "answer").first()
    return None if message is None else _replay(message)


def _replay(message: InstrumentMessage) -> tuple[int, dict[str, Any]]:
    return message.status_code or 201, {**(message.answer or {}), "replayed": True}


def _record(
    message: InstrumentMessage, instrument: Any, items: list[dict[str, Any]]
) -> tuple[int, dict[str, Any]]:
    outcomes = results_record(
        [_incoming(item) for item in items], instrument=instrument, message=message
    )
    accepted, unmatched, errors = [], [], []
    for index, (item, outcome) in enumerate(zip(items, outcomes, strict=True)):
        if isinstance(outcome, Result):
            accepted.append(_describe(outcome, repeated=False))
        elif isinstance(outcome, Repeat):
            accepted.append(_describe(outcome.result, repeated=True))
        elif outcome.field in UNMATCHED_FIELDS:
            unmatched.append(_park(message, instrument, item, outcome.message, index))
        else:
            field = outcome.field or "non_field_errors"
            errors.append({"index": index, "field": field, "error": outcome.message})
    if errors:
        return 400, {"errors": errors, "detail": "Nothing was recorded: correct these items."}
    return (202 if unmatched else 201), {"accepted": accepted, "unmatched": unmatched}


def _incoming(item: dict[str, Any]) -> Incoming:
    return Incoming(
        barcode=item["sample"],
        assay_code=item["assay"],
        value=item["value"],
        units=item.get("units", ""),
        flags=item.get("flags", []),
        measured_at=item.get("measured_at"),
        instrument_run_id=item.get("run_id", ""),
    )


def _describe(result: Result, *, repeated: bool) -> dict[str, Any]:
    return {
        "result": result.pk,
        "sample": result.sample.barcode,
        "assay": result.assay.code,
        "value": str(result.value.normalize()),
        "units": result.units,
        "repeated": repeated,
    }


def _park(
    message: InstrumentMessage, instrument: Any, item: dict[str, Any], why: str, index: int
) -> dict[str, Any]:
    measured: datetime | None = item.get("measured_at")
    parked = UnmatchedResult.objects.create(
        message=message,
        instrument=instrument,
        barcode=item["sample"][:64],
        assay_code=item["assay"][:32],
        value=str(item["value"])[:64],
        units=item.get("units", "")[:32],
        flags=item.get("flags", []),
        run_id=item.get("run_id", "")[:100],
        measured_at=measured,
        why=why,
        received_at=timezone.now(),
    )
    return {
        "index": index,
        "inbox": parked.pk,
        "sample": parked.barcode,
        "assay": parked.assay_code,
        "why": why,
    }


def unmatched_match(*, user: Any, entry_id: int, barcode: str, reason: str) -> Result:
    """A technician matches an inbox entry to the sample it belongs to (with a reason): it is
    recorded as that sample's result, from its instrument, and the technician counts as having
    entered it (so may not verify it)."""
    require_role(user, Role.TECHNICIAN)
    reason = (reason or "").strip()
    if not reason:
        raise LabError("Say why this result belongs to that sample.", field="reason")
    with transaction.atomic():
        entry = _open_entry(entry_id)
        result = result_record(
            barcode=barcode,
            assay_code=entry.assay_code,
            value=entry.value,
            units=entry.units,
            flags=entry.flags,
            measured_at=entry.measured_at,
            instrument=entry.instrument,
            message=entry.message,
            instrument_run_id=entry.run_id,
        )
        Result.objects.filter(pk=result.pk).update(
            entered_by=user, entry_reason=f"matched from the unmatched inbox: {reason}"
        )
        _resolve(entry, user, "matched", reason, result)
    return result


def unmatched_discard(*, user: Any, entry_id: int, reason: str) -> None:
    """A technician discards an inbox entry, with a reason; it stays on record."""
    require_role(user, Role.TECHNICIAN)
    reason = (reason or "").strip()
    if not reason:
        raise LabError("A discarded result needs a reason.", field="reason")
    with transaction.atomic():
        _resolve(_open_entry(entry_id), user, "discarded", reason, None)


def _open_entry(entry_id: int) -> UnmatchedResult:
    entry = UnmatchedResult.objects.select_for_update().filter(pk=entry_id).first()
    if entry is None:
        raise LabError(f"There is no inbox entry {entry_id}.")
    if entry.resolved_at is not None:
        raise LabError(f"Inbox entry {entry_id} was already {entry.resolution}.")
    return entry


def _resolve(entry: UnmatchedResult, user: Any, how: str, reason: str, result: Any) -> None:
    entry.resolved_at, entry.resolved_by, entry.resolution = timezone.now(), user, how
    entry.resolution_reason, entry.result = reason, result
    entry.save(
        update_fields=["resolved_at", "resolved_by", "resolution", "resolution_reason", "result"]
    )
