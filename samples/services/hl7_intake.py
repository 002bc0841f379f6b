"""HL7 v2 messages in, whatever the door: ``POST /api/v1/hl7/`` and the MLLP listener hand
``hl7_receive`` the bytes received and send back the ACK it returns, once the message is
committed.

Every message is kept as received, the rejected ones too. Its OBX are taken one by one: each
readable result is recorded; one that matches no waiting sample, or cannot be recorded (a value
that is not a number, a preliminary status, a unit the assay is not reported in...) is kept in
the unmatched inbox with its OBX as received, for a person. An OBX whose accession (OBR-3) is a
control lot's code is a control result (``controls.control_record``); one refused is not a
sample's result, so it stays in the message kept, not the inbox. The ACK says what was done:
AA, each OBX kept in the inbox or a control result refused named in an ERR warning; AR when
the message as a whole cannot be read, or its control id (MSH-10) was used before with other
content. The rules are in docs/api.md."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from samples.models import InstrumentMessage
from samples.services.hl7 import (
    APPLICATION_ERROR,
    DATA_TYPE_ERROR,
    UNKNOWN_KEY,
    Hl7Rejected,
    OruMessage,
    Problem,
    hl7_text,
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
    read = hl7_text(raw, charset)
    # Kept under the control id its header gives, even when refused (which claims no key).
    sent = Sent(client, "hl7", raw, door, content_type, charset, read.control_id or None)
    answer_charset = read.charset or "utf-8"
    if read.problem is not None:
        ack = oru_ack(read.header, "AR", read.problem.error, [read.problem])
        return _rejected(sent, read.problem, ack, answer_charset)
    try:
        oru = oru_read(read.text, read.charset)
    except Hl7Rejected as rejected:
        problem = rejected.problem
        ack = oru_ack(rejected.message or read.header, "AR", problem.error, [problem])
        return _rejected(sent, problem, ack, answer_charset)
    sent = Sent(client, "hl7", raw, door, content_type, read.charset, oru.control_id)
    receipt = message_receive(
        sent,
        lambda message: _record(message, oru),
        lambda first: _reused(oru, first),
    )
    return Hl7Answer(receipt.answer["ack"], charset=answer_charset)


def _rejected(sent: Sent, problem: Problem, ack: str, charset: str) -> Hl7Answer:
    message_refused(sent, 400, {"detail": problem.error, "ack": ack})
    return Hl7Answer(ack, charset=charset)


def _record(message: InstrumentMessage, oru: OruMessage) -> Answer:
    """Each OBX recorded, or kept in the inbox with why; the ACK saying which."""
    items = [
        {**o.item, "segment": o.segment, "unreadable": o.problems[0].error}
        if o.problems
        else {**o.item, "segment": o.segment}
        for o in oru.observations
    ]
    status, answer = items_record(message, items, partial=True)
    kept = answer["unmatched"]
    recorded = len(answer["accepted"])
    text = f"Recorded {recorded} result{'s' if recorded != 1 else ''}."
    if "controls" in answer:
        controls = len(answer["controls"])
        text += f" Recorded {controls} control result{'s' if controls != 1 else ''}."
    if kept:
        text += (
            f" {len(kept)} kept in the unmatched inbox for a person (not waited for, or "
            "not readable as a result): see the ERR segments."
        )
    refused = answer.get("controls_refused", [])
    if refused:
        text += f" {len(refused)} control result{'s' if len(refused) != 1 else ''} refused: see "
        text += "the ERR segments."
    warnings = [_warning(oru, entry) for entry in kept]
    warnings += [_warning(oru, entry, kept_in="") for entry in refused]
    return status, {**answer, "ack": oru_ack(oru.message, "AA", text, warnings)}


def _warning(
    oru: OruMessage, entry: dict[str, Any], kept_in: str = " Kept in the unmatched inbox."
) -> Problem:
    """The ERR warning naming an OBX not recorded: kept in the inbox, or (``kept_in`` empty) a
    control result refused, kept in the message only."""
    index = entry["index"]
    problems = oru.observations[index].problems
    if problems:
        return replace(problems[0], error=f"{problems[0].error}{kept_in}", severity="W")
    field = entry["field"] or None
    if not kept_in:
        code = (
            UNKNOWN_KEY
            if field in (None, "control")
            else DATA_TYPE_ERROR
            if field in ("value", "units", "measured_at")
            else APPLICATION_ERROR
        )
        where = {"control": "sample"}.get(field or "", field or "")
        return oru.locate(index, where, entry["why"], code=code, severity="W")
    code = UNKNOWN_KEY if field in UNMATCHED_FIELDS else DATA_TYPE_ERROR
    where = {"barcode": "sample"}.get(field or "", field or "")
    return oru.locate(index, where, entry["why"], code=code, severity="W")


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
