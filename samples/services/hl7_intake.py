"""HL7 v2 messages in, whatever the door: ``POST /api/v1/hl7/`` and the MLLP listener hand
``hl7_receive`` the bytes received and send back the ACK it returns, once the message is
committed.

Every message is kept as received, the rejected ones too. Its OBX are taken one by one: each
readable result is recorded; one that matches no waiting sample, or cannot be recorded (a value
that is not a number, a preliminary status, a unit the assay is not reported in...) is kept in
the unmatched inbox with its OBX as received, for a person. The ACK says what was done: AA, each
OBX kept in the inbox named in an ERR warning; AR when the message as a whole cannot be read, or
its control id (MSH-10) was used before with other content. The rules are in docs/api.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from samples.models import InstrumentMessage
from samples.services.hl7 import (
    APPLICATION_ERROR,
    DATA_TYPE_ERROR,
    UNKNOWN_KEY,
    Hl7Rejected,
    OruMessage,
    Problem,
    oru_ack,
    oru_read,
)
from samples.services.intake import (
    UNMATCHED_FIELDS,
    Answer,
    Sent,
    items_record,
    message_receive,
    message_refused,
)

# HL7 table 0357: the control id names a message received before.
DUPLICATE_KEY = ("205", "Duplicate key identifier")


@dataclass(frozen=True)
class Hl7Answer:
    """The ACK (segments ending in CR) and the status the HTTP door answers with."""

    ack: str
    status: int = 200
    charset: str = "utf-8"

    def encoded(self) -> bytes:
        """The ACK as bytes, in the charset the message was read in."""
        return self.ack.encode(self.charset, errors="replace")


def hl7_receive(
    *, client: Any, raw: bytes, door: str, charset: str | None = None, content_type: str = ""
) -> Hl7Answer:
    """Keep and read one HL7 message (``raw``: its bytes, without MLLP framing) sent by
    ``client`` (an instrument's identity) through ``door`` ("http", "mllp"); ``charset`` is the
    one the HTTP Content-Type named. Returns the ACK once the message is committed."""
    sent = Sent(client, "hl7", raw, door, content_type, charset)
    text, problem = _text(raw, charset)
    if problem is not None:
        return _rejected(sent, problem, oru_ack(None, "AR", problem.error, [problem]))
    try:
        oru = oru_read(text)
    except Hl7Rejected as rejected:
        problem = rejected.problem
        return _rejected(sent, problem, oru_ack(rejected.message, "AR", problem.error, [problem]))
    sent = Sent(client, "hl7", raw, door, content_type, charset, oru.control_id)
    receipt = message_receive(
        sent,
        lambda message: _record(message, oru),
        lambda first: _reused(oru, first),
    )
    return Hl7Answer(receipt.answer["ack"], charset=charset or "utf-8")


def _text(raw: bytes, charset: str | None) -> tuple[str, Problem | None]:
    encoding = charset or "utf-8"
    try:
        text = raw.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return "", Problem(f"The message is not {encoding} text.", APPLICATION_ERROR)
    if "\x00" in text:
        return "", Problem(
            "The message holds a NUL character (U+0000), which is never accepted.",
            APPLICATION_ERROR,
        )
    return text, None


def _rejected(sent: Sent, problem: Problem, ack: str) -> Hl7Answer:
    message_refused(sent, 400, {"detail": problem.error, "ack": ack})
    return Hl7Answer(ack, charset=sent.charset or "utf-8")


def _record(message: InstrumentMessage, oru: OruMessage) -> Answer:
    """Each OBX recorded, or kept in the inbox with why; the ACK saying which."""
    unreadable = _unreadable(oru)
    items = [
        {**o.item, "unreadable": unreadable[n].error, "segment": _segment(oru, o.obx)}
        if n in unreadable
        else {**o.item, "segment": _segment(oru, o.obx)}
        for n, o in enumerate(oru.observations)
    ]
    status, answer = items_record(message, items, partial=True)
    kept = answer["unmatched"]
    recorded = len(answer["accepted"])
    text = f"Recorded {recorded} result{'s' if recorded != 1 else ''}."
    if kept:
        text += (
            f" {len(kept)} kept in the unmatched inbox for a person (not waited for, or "
            "not readable as a result): see the ERR segments."
        )
    warnings = [_warning(oru, unreadable, entry) for entry in kept]
    return status, {**answer, "ack": oru_ack(oru.message, "AA", text, warnings)}


def _unreadable(oru: OruMessage) -> dict[int, Problem]:
    """For each observation (by its index) the first problem found reading its OBX or OBR."""
    found: dict[int, Problem] = {}
    for index, observation in enumerate(oru.observations):
        for problem in oru.problems:
            place = {"OBX": observation.obx, "OBR": observation.obr}.get(problem.segment)
            if place == problem.sequence:
                found.setdefault(index, problem)
    return found


def _warning(oru: OruMessage, unreadable: dict[int, Problem], entry: dict[str, Any]) -> Problem:
    index = entry["index"]
    if index in unreadable:
        problem = unreadable[index]
        return Problem(
            f"{problem.error} Kept in the unmatched inbox.",
            problem.code,
            problem.segment,
            problem.sequence,
            problem.field,
            severity="W",
        )
    field = entry["field"] or None
    code = UNKNOWN_KEY if field in UNMATCHED_FIELDS else DATA_TYPE_ERROR
    where = {"barcode": "sample"}.get(field or "", field or "")
    return oru.locate(index, where, entry["why"], code=code, severity="W")


def _segment(oru: OruMessage, obx: int) -> str:
    """The ``obx``-th OBX of the message as text (as the library reads it back)."""
    segments = [s for s in oru.message if str(s[0]) == "OBX"]
    return str(segments[obx - 1])


def _reused(oru: OruMessage, first: InstrumentMessage) -> Answer:
    """The AR for a control id used before with other content: kept, nothing recorded."""
    error = (
        f"Control id {oru.control_id} reused with different content: the first message with it "
        f"was received {first.received_at:%Y-%m-%d %H:%M:%S} UTC. This one is kept for a "
        "person and nothing of it was recorded; send it under a new control id."
    )
    problem = Problem(error, DUPLICATE_KEY, "MSH", 1, 10)
    ack = oru_ack(oru.message, "AR", error, [problem])
    return 409, {"detail": error, "first_message": first.pk, "ack": ack}
