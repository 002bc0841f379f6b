"""The ORU^R01 (HL7 v2.5.1) that sends a released sample's results to the ordering system,
built with the python-hl7 library. Nothing here touches the database: the caller passes the
sample and its current results.

- MSH: LABTRACK as sending application, the control id (MSH-10) given by the caller (fixed
  before the first attempt, so a retried send is the same message), processing id P, version
  2.5.1, UTF-8 (MSH-18 ``UNICODE UTF-8``).
- PID: the sample's anonymised subject reference (PID-3): the lab holds no names.
- OBR: the sample's barcode as filler order number (OBR-3), collection time (OBR-7), status
  F, or C for a corrected message (OBR-25).
- OBX, one per current result (retested ones are left out), in assay order: NM, the assay
  (code^name^L), the value, units, reference range ``low-high``, interpretation flag (L, H,
  LL, HH or N), result status F, or C for a result corrected after its release, and the time
  it was measured. An answer of a qualitative assay goes as ST: the answer, no units, its
  normal answers as the reference ("Negative") and A for an abnormal one.

Every value is escaped (``\\F\\``, ``\\S\\``, ``\\R\\``, ``\\E\\``, ``\\T\\``, and a line break as
``\\.br\\``) with python-hl7's rules; characters beyond ASCII are kept as they are, in UTF-8.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import hl7
from hl7 import util

from samples.lifecycle.names import CORRECTED, ORIGINAL
from samples.values.answers import answers_of

VERSION = "2.5.1"
SENDER = "LABTRACK"
_CONTAINER = hl7.parse("MSH|^~\\&|" + SENDER)  # the separators the values are escaped for


def escape(value: Any) -> str:
    """``value`` as text safe inside one component: separators and the escape character
    escaped, control characters but the line break dropped, other characters kept."""
    text = "" if value is None else str(value)
    out = []
    for char in text.replace("\r\n", "\r").replace("\n", "\r"):
        if ord(char) > 0x7E:
            out.append(char)  # UTF-8, as MSH-18 says
        elif char == "\r" or ord(char) >= 0x20:
            out.append(util.escape(_CONTAINER, char))
    return "".join(out)


def _ts(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000") if moment else ""


def _number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def _normal_answers(assay: Any) -> str:
    """A qualitative assay's reference: its normal answers ("Negative")."""
    return " or ".join(a.text for a in answers_of(assay) if not a.abnormal)


def _range(low: Decimal | None, high: Decimal | None) -> str:
    if low is None and high is None:
        return ""
    if low is None:
        return f"<{_number(high)}"
    if high is None:
        return f">{_number(low)}"
    return f"{_number(low)}-{_number(high)}"


def oru_build(
    *,
    sample: Any,
    results: Iterable[Any],
    control_id: str,
    kind: str,
    at: datetime,
    receiver: str = "",
) -> bytes:
    """The message as the UTF-8 bytes to send (segments ended by a carriage return).

    ``results`` are the sample's current results (their ``assay`` loaded). In a corrected
    message a result amended after the sample's release is marked C (OBX-11), the others F."""
    if kind not in (ORIGINAL, CORRECTED):
        raise ValueError(f"kind must be {ORIGINAL!r} or {CORRECTED!r}, not {kind!r}")
    released = getattr(sample, "released_at", None)
    segments = [
        [
            "MSH",
            "^~\\&",
            SENDER,
            "",
            escape(receiver),
            "",
            _ts(at),
            "",
            "ORU^R01^ORU_R01",
            escape(control_id),
            "P",
            VERSION,
            *[""] * 5,
            "UNICODE UTF-8",
        ],
        ["PID", "1", "", escape(sample.subject_ref)],
        [
            "OBR",
            "1",
            "",
            escape(sample.barcode) + "^" + SENDER,
            "LAB^Laboratory results^L",
            "",
            "",
            _ts(sample.collected_at),
            *[""] * 14,
            _ts(at),
            "",
            "",
            "C" if kind == CORRECTED else "F",
        ],
    ]
    for number, result in enumerate(results, start=1):
        corrected = (
            kind == CORRECTED
            and result.amended_at is not None
            and (released is None or result.amended_at > released)
        )
        assay = result.assay
        answer = getattr(result, "text", None)  # a qualitative assay's: sent as text (ST)
        segments.append(
            [
                "OBX",
                str(number),
                "NM" if answer is None else "ST",
                f"{escape(assay.code)}^{escape(assay.name)}^L",
                "",
                _number(result.value) if answer is None else escape(answer),
                escape(result.units),
                escape(
                    _range(assay.reference_low, assay.reference_high)
                    if answer is None
                    else _normal_answers(assay)
                ),
                escape(result.interpretation or "N"),
                "",
                "",
                "C" if corrected else "F",
                "",
                "",
                _ts(result.measured_at),
            ]
        )
    text = "\r".join("|".join(fields) for fields in segments)
    message = hl7.parse(text)  # the library reads back what it will be judged by
    return (str(message).rstrip("\r") + "\r").encode()


def ack_read(raw: bytes | str) -> tuple[str, str, str]:
    """An acknowledgement's code (MSA-1: AA, AE, AR, CA, CE, CR), the control id it answers
    (MSA-2) and its text (MSA-3 and every ERR's diagnostic, ERR-8). Raises ``ValueError`` for
    an answer that is not an HL7 acknowledgement."""
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    lines = text.replace("\r\n", "\r").replace("\n", "\r").split("\r")
    text = "\r".join(line for line in lines if line.strip())
    if not text.startswith("MSH"):
        raise ValueError(f"the answer is not an HL7 message: {text[:80]!r}")
    try:
        message = hl7.parse(text)
        msa = message.segment("MSA")
    except (KeyError, IndexError, hl7.ParseException) as error:
        raise ValueError(f"the answer has no MSA segment: {text[:80]!r}") from error
    code = str(_field(msa, 1)).upper()
    answered = str(_field(msa, 2))
    words = [str(_field(msa, 3))]
    for segment in message:
        if str(segment[0]) == "ERR":
            words.append(str(_field(segment, 8)))
    return code, answered, "; ".join(unescape(w) for w in words if w)


def unescape(text: str) -> str:
    return str(util.unescape(_CONTAINER, text))


def _field(segment: Any, index: int) -> Any:
    return segment[index] if len(segment) > index else ""
