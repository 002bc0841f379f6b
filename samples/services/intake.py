"""Results from instruments, whatever the door (JSON over HTTP, HL7 over HTTP or MLLP).

Every message is stored as the bytes received (with their SHA-256 and the text for reading),
taken or refused, with the answer it got. Its results are matched to the samples waiting for
them and recorded once however often they are re-sent; what matches nothing, or cannot be read,
goes to the unmatched inbox for a person (never dropped).

Keys (the JSON ``Idempotency-Key``, HL7's MSH-10): one key space per client and format. A
message taken with a key claims it. The same key again with the same bytes gets the first
answer and records nothing; with other bytes it is a conflict: kept, linked to the first, nothing
of it recorded, and answered as a conflict, never as recorded. A refused message claims no key:
sent again, corrected or not, it is read again."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from samples.errors import LabError
from samples.models import ControlLot, InstrumentMessage, Result, UnmatchedResult
from samples.roles import Role
from samples.services.access import require_role
from samples.services.controls import ControlRecorded, control_record
from samples.services.recording import Incoming, Repeat, result_record, results_record
from samples.values import bounds
from samples.values.codes import code_clean

# Refusals that mean "this result is fine but no sample is waiting for it" (an unknown barcode,
# an assay not ordered, no running batch), or a measurement time no row can hold: the inbox
# keeps it for a person, nothing is lost. (A time before collection or ahead of the clock is
# recorded and flagged for the reviewer, not refused.)
UNMATCHED_FIELDS = {None, "barcode", "assay", "measured_at"}

Answer = tuple[int, dict[str, Any]]


@dataclass(frozen=True)
class Sent:
    """A message as it arrived: who sent it, in which format (``kind``: "results" for JSON,
    "hl7") through which door ("http", "mllp"), its bytes, and the key it carries."""

    client: Any
    kind: str
    raw: bytes
    door: str = "http"
    content_type: str = ""
    charset: str | None = None
    key: str | None = None


@dataclass(frozen=True)
class Receipt:
    """What a message got: the status (as HTTP says it) and the answer, and the message kept
    (the first one, for a repeat)."""

    status: int
    answer: dict[str, Any]
    message: InstrumentMessage


def message_receive(
    sent: Sent,
    record: Callable[[InstrumentMessage], Answer],
    conflict: Callable[[InstrumentMessage], Answer],
) -> Receipt:
    """Keep ``sent`` and ``record`` what it carries, in one transaction: the answer is returned
    only once both are committed. ``record`` gets the stored message and answers (status,
    answer); a status of 400 or more refuses it: nothing of it is recorded and it is kept with
    that answer. A key seen before: the first answer (same bytes), or ``conflict`` answers
    (other bytes), given the first message."""
    if sent.key:
        first = _claimed(sent)
        if first is not None:
            return _again(sent, first, conflict)
    try:
        with transaction.atomic():
            message = _keep(sent, claim=True)
            status, answer = record(message)
            if status < 400:
                _answered(message, status, answer)
                return Receipt(status, answer, message)
            transaction.set_rollback(True)
    except IntegrityError:
        # Sent twice at once with the same key: the first one's answer stands.
        first = _claimed(sent) if sent.key else None
        if first is None:
            raise
        return _again(sent, first, conflict)
    return message_refused(sent, status, answer)


def message_refused(sent: Sent, status: int, answer: dict[str, Any]) -> Receipt:
    """Keep a message refused before anything of it could be recorded, with its answer."""
    message = _keep(sent, claim=False, status=status, answer=answer)
    return Receipt(status, answer, message)


def _again(
    sent: Sent, first: InstrumentMessage, conflict: Callable[[InstrumentMessage], Answer]
) -> Receipt:
    if first.sha256 == _sha256(sent.raw):
        # Byte for byte the message kept: the first answer, nothing new to keep.
        return Receipt(first.status_code or 201, {**(first.answer or {}), "replayed": True}, first)
    status, answer = conflict(first)
    message = _keep(sent, claim=False, status=status, answer=answer, conflicts_with=first)
    return Receipt(status, answer, message)


def _claimed(sent: Sent) -> InstrumentMessage | None:
    return (
        InstrumentMessage.objects.filter(
            client=sent.client, kind=sent.kind, idempotency_key=sent.key
        )
        .only("sha256", "status_code", "answer", "received_at")
        .first()
    )


def _keep(sent: Sent, *, claim: bool, **answered: Any) -> InstrumentMessage:
    return InstrumentMessage.objects.create(
        client=sent.client,
        instrument=getattr(sent.client, "instrument", None),
        kind=sent.kind,
        door=sent.door,
        content_type=sent.content_type[:100],
        raw=sent.raw,
        sha256=_sha256(sent.raw),
        body=received_text(sent.raw, sent.charset),
        control_id=_storable((sent.key or "")[:200]),
        idempotency_key=sent.key if claim else None,
        received_at=timezone.now(),
        **{"status_code" if k == "status" else k: v for k, v in answered.items()},
    )


def _answered(message: InstrumentMessage, status: int, answer: dict[str, Any]) -> None:
    message.status_code, message.answer = status, answer
    message.save(update_fields=["status_code", "answer"])


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def received_text(raw: bytes, charset: str | None = None) -> str:
    """A message's bytes as text for reading: in the charset its Content-Type named (UTF-8
    when none, or one Python does not know), a byte that is not text as U+FFFD, and a NUL
    (which PostgreSQL's text cannot hold; the bytes keep it) as U+FFFD too."""
    try:
        text = raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    return _storable(text)


def _storable(text: str) -> str:
    """``text`` as PostgreSQL's text holds it: a NUL as U+FFFD, a lone surrogate (some codecs
    make them) as "?"."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def results_receive(
    *,
    client: Any,
    items: list[dict[str, Any]],
    raw_body: bytes,
    content_type: str,
    idempotency_key: str | None,
    charset: str | None = None,
) -> Receipt:
    """Record a JSON message of results (already checked for shape): 201 all accepted, 202
    some kept in the unmatched inbox, 400 a value refused (nothing recorded), 409 the key was
    used before with another body (nothing recorded). The message is kept whatever the answer."""
    sent = Sent(client, "results", raw_body, "http", content_type, charset, idempotency_key)
    return message_receive(
        sent,
        lambda message: items_record(message, items, partial=False),
        lambda first: (409, key_reused(sent, first)),
    )


def key_reused(sent: Sent, first: InstrumentMessage) -> dict[str, Any]:
    """The answer to a key used before with other content."""
    return {
        "detail": f"The key {sent.key} was used before with other content (message "
        f"{first.pk}, received {first.received_at:%Y-%m-%d %H:%M:%S} UTC): this message is kept "
        "for a person and nothing of it was recorded. Send new content under a new key.",
        "first_message": first.pk,
    }


def items_record(
    message: InstrumentMessage, items: list[dict[str, Any]], *, partial: bool
) -> Answer:
    """Record a message's result items. An item the inbox keeps for a person: one matching no
    waiting sample, one with ``unreadable`` (why it could not be read as a result), and, when
    ``partial``, one refused for any reason. Otherwise a refused item refuses them all (400)."""
    instrument = message.instrument
    if instrument is None:  # the doors let only instruments' identities in
        raise LabError("Results are taken from an instrument's identity only.")
    controls = _control_items(items)
    readable = [
        (i, item)
        for i, item in enumerate(items)
        if not item.get("unreadable") and i not in controls
    ]
    outcomes = dict(
        zip(
            [i for i, _ in readable],
            results_record(
                [_incoming(item) for _, item in readable], instrument=instrument, message=message
            ),
            strict=True,
        )
    )
    accepted, unmatched, errors = [], [], []
    recorded, refused = [], []
    for index, item in enumerate(items):
        outcome = outcomes.get(index)
        if index in controls:
            control = _control(message, item)
            if isinstance(control, ControlRecorded):
                recorded.append(_describe_control(index, control))
            elif partial:
                refused.append(_control_refused(index, item, control))
            else:
                field = control.field or "non_field_errors"
                errors.append({"index": index, "field": field, "error": control.message})
        elif outcome is None:
            unmatched.append(_park(message, instrument, item, item["unreadable"], index))
        elif isinstance(outcome, Result):
            accepted.append(_describe(outcome, repeated=False))
        elif isinstance(outcome, Repeat):
            accepted.append(_describe(outcome.result, repeated=True))
        elif partial or outcome.field in UNMATCHED_FIELDS:
            unmatched.append(
                _park(message, instrument, item, outcome.message, index, outcome.field)
            )
        else:
            field = outcome.field or "non_field_errors"
            errors.append({"index": index, "field": field, "error": outcome.message})
    if errors:
        return 400, {"errors": errors, "detail": "Nothing was recorded: correct these items."}
    answer = {"accepted": accepted, "unmatched": unmatched}
    if controls:
        answer["controls"] = recorded
        if partial:
            answer["controls_refused"] = refused
    return (202 if unmatched or refused else 201), answer


def _control_items(items: list[dict[str, Any]]) -> set[int]:
    """The items whose "sample" is a control lot's code (one query): control results."""
    codes = {code_clean(item["sample"]) for item in items}
    lots = set(ControlLot.objects.filter(code__in=codes).values_list("code", flat=True))
    return {i for i, item in enumerate(items) if code_clean(item["sample"]) in lots}


def _control(message: InstrumentMessage, item: dict[str, Any]) -> ControlRecorded | LabError:
    """A control item recorded (``controls.control_record``), or why it was refused."""
    if item.get("unreadable"):
        return LabError(item["unreadable"], field=item.get("unreadable_field"))
    try:
        return control_record(
            code=item["sample"],
            assay_code=item["assay"],
            value=item["value"],
            units=item.get("units", ""),
            measured_at=item.get("measured_at"),
            instrument=message.instrument,
            message=message,
        )
    except LabError as refusal:
        return refusal


def _describe_control(index: int, recorded: ControlRecorded) -> dict[str, Any]:
    result = recorded.result
    return {
        "index": index,
        "control_result": result.pk,
        "control": result.lot.code,
        "assay": result.lot.assay.code,
        "value": f"{result.value.normalize():f}",
        "units": result.units,
        "batch": result.control.batch_id,
        "verdict": result.verdict,
        "rules": result.rules,
        "repeated": recorded.repeated,
    }


def _control_refused(index: int, item: dict[str, Any], refusal: LabError) -> dict[str, Any]:
    """A control result refused in a message taken in part (HL7): not a sample's result, so
    not kept in the inbox; the message keeps it, and its answer says why."""
    return {
        "index": index,
        "control": code_clean(item["sample"]),
        "why": refusal.message,
        "field": refusal.field or "",
    }


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
        "value": result.reading,
        "units": result.units,
        "repeated": repeated,
    }


def _park(
    message: InstrumentMessage,
    instrument: Any,
    item: dict[str, Any],
    why: str,
    index: int,
    field: str | None = None,
) -> dict[str, Any]:
    measured: datetime | None = item.get("measured_at")
    if measured is not None and field == "measured_at":
        try:  # a time that cannot be stored stays in the message (and the segment) only
            bounds.moment(measured, field="measured_at", what="the measurement time")
        except LabError:
            measured = None
    parked = UnmatchedResult.objects.create(
        message=message,
        instrument=instrument,
        barcode=item["sample"][:64],
        assay_code=item["assay"][:32],
        value=str(item["value"])[:64],
        units=item.get("units", "")[:32],
        flags=item.get("flags", []),
        run_id=item.get("run_id", "")[:200],
        measured_at=measured,
        why=why,
        segment=item.get("segment", ""),
        received_at=timezone.now(),
    )
    return {
        "index": index,
        "inbox": parked.pk,
        "sample": parked.barcode,
        "assay": parked.assay_code,
        "why": why,
        "field": field or item.get("unreadable_field") or "",
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
