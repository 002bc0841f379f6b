"""HL7 v2 result messages (ORU^R01) from instrument middleware, read with the python-hl7
library: a message becomes the result items that ``intake.results_receive`` records, and its
answer is an HL7 ACK built by the library. Nothing here touches the database; the rules are
described in docs/api.md. The bytes received become text in ``hl7_text`` (byte-order mark,
MLLP framing, charset, NUL: ``samples.services.hl7_text``), and escape sequences are read in
``samples.services.hl7_escapes``.

What is read, for each OBX (in message order):

- accession (the sample's barcode): OBR-3.1, the filler order number, else OBR-2.1, the placer
  order number, of the OBR that the OBX follows;
- assay: OBX-3.1; value: OBX-5 when OBX-2 is NM (or empty), or the number of an SN written
  ``^182`` (or ``=^182``); units: OBX-6.1; flags: each repetition of OBX-8;
- text: OBX-5 as text when OBX-2 is ST, TX or FT (repetitions one line each), or the text
  (else the code) of a CE or CWE: labs send qualitative results (``Positive``) that way;
- measured at: OBX-14.1, else OBR-7.1 (a time without an offset is in the lab's time zone);
- run id: MSH-10, the message control id, also the key that makes a re-sent message replay
  the first answer;
- result status: OBX-11; only final results (F, or empty) are recorded, and only production
  messages (MSH-11 P, or empty) are taken.

Versions 2.2 to 2.8.2. These fields sit at the same places in every one of them: MSH-9 (type
^ event), MSH-10, MSH-11 and MSH-12; OBR-2, OBR-3 and OBR-7; OBX-2, -3, -5, -6, -8, -11 and -14
(2.2's OBX has 17 fields, the same first 17 as later versions'; OBR-2 and OBR-3 are CM there,
EI from 2.3, with the identifier first in both). MSH-18 (character set) arrived in 2.3.

A message that cannot be taken raises ``Hl7Rejected`` (an AR); a result that cannot be
recorded is a ``Problem`` of its OBX (``Observation.problems``, also in ``OruMessage.problems``,
each with the OBX's number), never of the whole message: a value type other than NM or SN,
an SN comparison or range, an empty NM, a status other than final, an OBR without accession
(a problem for each of its OBX), an unreadable time or escape sequence. Each ``Observation``
keeps its OBX as received (``segment``), for a person to see what could not be recorded.

The ACK follows the message's version (MSH-12): MSH-9 is ``ACK^R01`` up to 2.3 and
``ACK^R01^ACK`` from 2.3.1 (the message structure component arrived then); each problem is an
ERR whose ERR-1 (error code and location: segment ^ sequence ^ field ^ code&text&HL70357) is
all there is up to 2.4, and from 2.5 (and for any later or unknown version) ERR-2 the
location, ERR-3 the table 0357 code, ERR-4 the severity and ERR-8 the message for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import hl7
from django.utils import timezone

from samples.services.hl7_escapes import component_text, unescape
from samples.services.hl7_problems import (
    APPLICATION_ERROR,
    DATA_TYPE_ERROR,
    REQUIRED_FIELD_MISSING,
    SEGMENT_SEQUENCE,
    TABLE_VALUE_NOT_FOUND,
    UNKNOWN_KEY,
    UNSUPPORTED_EVENT,
    UNSUPPORTED_MESSAGE_TYPE,
    UNSUPPORTED_VERSION,
    Problem,
)
from samples.services.hl7_text import CHARSETS, Hl7Text, hl7_text

__all__ = [
    "APPLICATION_ERROR",
    "CHARSETS",
    "DATA_TYPE_ERROR",
    "ITEM_FIELDS",
    "MAX_MESSAGE_BYTES",
    "MAX_OBSERVATIONS",
    "RECORDED_STATUSES",
    "REQUIRED_FIELD_MISSING",
    "SEGMENT_SEQUENCE",
    "TABLE_VALUE_NOT_FOUND",
    "UNKNOWN_KEY",
    "UNSUPPORTED_EVENT",
    "UNSUPPORTED_MESSAGE_TYPE",
    "UNSUPPORTED_VERSION",
    "VERSIONS",
    "Hl7Rejected",
    "Hl7Text",
    "Observation",
    "OruMessage",
    "Problem",
    "hl7_text",
    "oru_ack",
    "oru_read",
]

# Versions whose ORU^R01 has the fields read above at those places.
VERSIONS = (
    "2.2",
    "2.3",
    "2.3.1",
    "2.4",
    "2.5",
    "2.5.1",
    "2.6",
    "2.7",
    "2.7.1",
    "2.8",
    "2.8.1",
    "2.8.2",
)
# The largest message read, in bytes, unless the HL7_MAX_BYTES setting says otherwise.
MAX_MESSAGE_BYTES = 1_000_000
MAX_OBSERVATIONS = 500

# OBX-11: final results are recorded (an empty status counts as final). The others are refused
# with what to do instead: nothing of the message is recorded, and the sender is told why.
RECORDED_STATUSES = ("F", "")
_STATUS_REFUSALS = {
    "P": "OBX-11 is P (preliminary): only final results (F) are recorded; send it when final.",
    "C": "OBX-11 is C (a correction): a recorded result is corrected in LabTrack, with a "
    "reason, not by a new message.",
    "X": "OBX-11 is X (no result could be obtained): nothing to record; ask for a retest "
    "in LabTrack.",
    "D": "OBX-11 is D (delete): recorded results are never deleted.",
    "W": "OBX-11 is W (wrong): a recorded result is corrected in LabTrack, with a reason.",
}
_NUMERIC = ("NM", "")
_TEXT = ("ST", "TX", "FT")
_CODED = ("CE", "CWE")
_READ = (*_NUMERIC, "SN", *_TEXT, *_CODED)  # value types whose OBX-5 is read

# Where each field of a result item comes from, for locating a refusal (segment, field).
ITEM_FIELDS = {
    "sample": ("OBR", 3),
    "assay": ("OBX", 3),
    "value": ("OBX", 5),
    "units": ("OBX", 6),
    "flags": ("OBX", 8),
    "measured_at": ("OBX", 14),
    "run_id": ("MSH", 10),
}

# What answers a message whose header cannot be mirrored (not HL7 at all, or a broken MSH).
_STAND_IN = hl7.parse("MSH|^~\\&|||LABTRACK||||ORU^R01||P|2.5")


class Hl7Rejected(Exception):
    """The message as a whole cannot be taken: the answer is an AR."""

    def __init__(self, problem: Problem, message: Any = None) -> None:
        super().__init__(problem.error)
        self.problem, self.message = problem, message


@dataclass(frozen=True)
class Observation:
    """One OBX as a result item, with where it sits in the message, the segment as received
    (field separators and escape sequences as sent) and what stops it being recorded."""

    item: dict[str, Any]
    obx: int  # the OBX's number among the message's OBX segments, from 1
    obr: int  # the same for the OBR it follows
    segment: str = ""
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class OruMessage:
    message: Any  # hl7.Message
    control_id: str
    observations: list[Observation]
    problems: list[Problem]  # every observation's problems, in order: the answer is an AE
    charset: str = "utf-8"  # the Python codec \X..\ escapes are decoded in
    version: str = ""  # MSH-12.1

    @property
    def items(self) -> list[dict[str, Any]]:
        return [o.item for o in self.observations]

    def locate(self, index: int, field: str, error: str, **kwargs: Any) -> Problem:
        """The problem of item ``index`` (a field name of the item), at its place here."""
        observation = self.observations[index]
        segment, number = ITEM_FIELDS.get(field, ("OBX", None))
        sequence = {"OBX": observation.obx, "OBR": observation.obr}.get(segment, 1)
        kwargs.setdefault("obx", observation.obx)
        return Problem(error, segment=segment, sequence=sequence, field=number, **kwargs)


def oru_read(text: str, charset: str | None = None) -> OruMessage:
    """Read an ORU^R01 message (segments ending in CR, LF or CRLF; a byte-order mark, MLLP
    framing and blank lines around it are skipped). ``charset``: the Python codec the text
    was read in (``hl7_text``'s), for ``\\X..\\`` escapes; without it, MSH-18's, else UTF-8.
    Raises ``Hl7Rejected`` when it is not a message this lab takes; results that cannot be
    read are in ``problems``."""
    text = text.lstrip("\ufeff \t\r\n\x0b\x0c")
    text = re.sub(r"\x1c[\r\n]*\Z", "", text)
    if not text.strip():
        raise Hl7Rejected(Problem("The message is empty.", REQUIRED_FIELD_MISSING))
    _check_delimiters(text)
    try:
        message = hl7.parse_hl7(text.replace("\r\n", "\r").replace("\n", "\r"))
    except (hl7.HL7Exception, ValueError, IndexError, AssertionError):
        raise Hl7Rejected(
            Problem("Not an HL7 v2 message: it must begin with an MSH segment.", SEGMENT_SEQUENCE)
        ) from None
    if not isinstance(message, hl7.Message):
        raise Hl7Rejected(Problem("Send one message per request, not a batch.", SEGMENT_SEQUENCE))
    _check_segment_names(message)
    _check_header(message)
    msh = message.segment("MSH")
    if charset is None:
        charset = CHARSETS.get(_plain(msh, 18).upper(), "utf-8")  # the first repetition
    reader = _Reader(str(msh(1)) + str(msh(2)), charset)
    control_id = reader.get(msh, 10)
    observations = _observations(message, control_id, reader)
    problems = [problem for o in observations for problem in o.problems]
    return OruMessage(message, control_id, observations, problems, charset, _version(message))


def _check_delimiters(text: str) -> None:
    """MSH-1 and MSH-2, the separators every other field is read with: the field separator and
    four encoding characters (component, repetition, escape, subcomponent; a fifth, truncation,
    from 2.7), all different symbols. The library cannot read a message whose separators are not."""
    if not text.startswith("MSH") or len(text) < 4:
        return  # not HL7 at all: the parser says so
    separator = text[3]
    head = text[4:].split(separator, 1)[0]
    encoding = head.splitlines()[0] if head else ""
    symbols = separator + encoding
    if (
        len(encoding) not in (4, 5)
        or len(set(symbols)) != len(symbols)
        or any(c.isalnum() or c.isspace() or not c.isprintable() for c in symbols)
    ):
        raise Hl7Rejected(
            Problem(
                "MSH-2 (encoding characters) must be four different symbols: the component, "
                "repetition, escape and subcomponent separators, none of them the field "
                "separator of MSH-1, and no letter, digit or space.",
                DATA_TYPE_ERROR,
                field=2,
            )
        )


def _check_segment_names(message: Any) -> None:
    """Each segment begins with its three-character name (``OBX``, ``ZPD``...): a line that
    does not (``|junk``) is no segment, and the library cannot even look for the MSH."""
    for number, segment in enumerate(message, start=1):
        name = str(segment[0])
        if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", name):
            raise Hl7Rejected(
                Problem(
                    f"Segment {number} ({str(segment)[:20]!r}) is not an HL7 segment: each "
                    "begins with a three-character name such as OBX.",
                    SEGMENT_SEQUENCE,
                )
            )


def _check_header(message: Any) -> None:
    msh = message.segment("MSH")
    kind, event = _plain(msh, 9), _plain(msh, 9, component=2)
    if kind != "ORU":
        raise Hl7Rejected(
            Problem(
                f"Only ORU^R01 result messages are taken here, not {kind or '(empty)'}.",
                UNSUPPORTED_MESSAGE_TYPE,
                field=9,
            ),
            message,
        )
    if event != "R01":
        raise Hl7Rejected(
            Problem(f"Only ORU^R01 is taken, not ORU^{event}.", UNSUPPORTED_EVENT, field=9),
            message,
        )
    control_id = _plain(msh, 10)
    if not control_id or len(control_id) > 200:
        raise Hl7Rejected(
            Problem(
                "MSH-10 (message control id) is required, at most 200 characters.",
                REQUIRED_FIELD_MISSING,
                field=10,
            ),
            message,
        )
    if _plain(msh, 11) not in ("P", ""):
        raise Hl7Rejected(
            Problem(
                f"MSH-11 processing id {_plain(msh, 11)}: only production messages (P) are "
                "recorded, not training or debugging ones.",
                APPLICATION_ERROR,
                field=11,
            ),
            message,
        )
    version = _plain(msh, 12)
    if version not in VERSIONS:
        raise Hl7Rejected(
            Problem(
                f"HL7 version {version or '(empty)'} is not taken: send 2.2 to 2.8.",
                UNSUPPORTED_VERSION,
                field=12,
            ),
            message,
        )


class _Reader:
    """Reads components of a segment as sent (the library's parse tree, not its unescaping)
    and unescapes them in the message's charset, noting what could not be read."""

    def __init__(self, encoding: str, charset: str) -> None:
        self.encoding, self.charset = encoding, charset
        self.faults: dict[int, str] = {}  # field number: the escape sequence not read

    def get(self, segment: Any, number: int, component: int = 1, repeat: int = 1) -> str:
        text, fault = component_text(
            segment, number, component, repeat, self.charset, self.encoding
        )
        if fault:
            self.faults.setdefault(number, fault)
        return text.strip()

    def repetitions(self, segment: Any, number: int) -> list[str]:
        """Each repetition of a field as one text (its components as sent, unescaped)."""
        if number >= len(segment):
            return []
        texts = []
        for repetition in str(segment(number)).split(self.encoding[2]):
            text, fault = unescape(repetition, self.encoding, self.charset)
            if fault:
                self.faults.setdefault(number, fault)
            texts.append(text)
        return texts


def _observations(message: Any, run_id: str, reader: _Reader) -> list[Observation]:
    observations: list[Observation] = []
    obr, obr_count, obx_count = None, 0, 0
    for segment in message:
        name = str(segment[0])
        if name == "OBR":
            obr, obr_count = segment, obr_count + 1
        elif name == "OBX":
            obx_count += 1
            if obr is None:
                raise Hl7Rejected(
                    Problem("An OBX must follow its OBR.", SEGMENT_SEQUENCE, "OBX", obx_count),
                    message,
                )
            item, found = _item(segment, obr, obx_count, obr_count, run_id, reader)
            observations.append(Observation(item, obx_count, obr_count, str(segment), tuple(found)))
    if not observations:
        raise Hl7Rejected(
            Problem("The message has no OBX (no results).", SEGMENT_SEQUENCE), message
        )
    if len(observations) > MAX_OBSERVATIONS:
        raise Hl7Rejected(
            Problem(f"Send at most {MAX_OBSERVATIONS} OBX per message.", APPLICATION_ERROR),
            message,
        )
    return observations


def _item(
    obx: Any, obr: Any, number: int, obr_number: int, run_id: str, reader: _Reader
) -> tuple[dict[str, Any], list[Problem]]:
    problems: list[Problem] = []

    def refuse(error: str, code: tuple[str, str], field: int, segment: str = "OBX") -> None:
        sequence = number if segment == "OBX" else obr_number
        problems.append(Problem(error, code, segment, sequence, field, obx=number))

    reader.faults = {}
    accession = reader.get(obr, 3) or reader.get(obr, 2)
    if not accession:
        refuse(
            "No accession: OBR-3 (filler order number) and OBR-2 are empty.",
            REQUIRED_FIELD_MISSING,
            3,
            "OBR",
        )
    for field_number, fault in sorted(reader.faults.items()):
        refuse(f"OBR-{field_number}: {fault} cannot be read.", DATA_TYPE_ERROR, field_number, "OBR")
    reader.faults = {}
    assay = reader.get(obx, 3)
    if not assay:
        refuse("OBX-3 (the test code) is empty.", REQUIRED_FIELD_MISSING, 3)
    status = reader.get(obx, 11)
    if status not in RECORDED_STATUSES:
        refuse(_STATUS_REFUSALS.get(status, f"OBX-11 result status {status}."), DATA_TYPE_ERROR, 11)
    value_type, value = reader.get(obx, 2), reader.get(obx, 5)
    text: str | None = None
    if value_type == "SN":
        comparator, value = value, reader.get(obx, 5, component=2)
        if (
            comparator not in ("", "=")
            or reader.get(obx, 5, component=3)
            or reader.get(obx, 5, component=4)
        ):
            refuse(
                "OBX-5: only a plain number (^182) is recorded, not a comparison or range.",
                DATA_TYPE_ERROR,
                5,
            )
    elif value_type in _TEXT or value_type in _CODED:
        # A text (or a coded value's text): an answer of a qualitative assay, which recording
        # matches to the assay's answers (and refuses for an assay that takes numbers).
        if value_type in _TEXT:
            text = "\n".join(reader.repetitions(obx, 5)).strip()
        else:
            text = reader.get(obx, 5, component=2) or value
        value = text
    elif value_type not in _NUMERIC:
        refuse(
            f"OBX-2 is {value_type}: only numbers (NM, SN) and answers (ST, TX, FT, CE, CWE) "
            "are recorded.",
            DATA_TYPE_ERROR,
            2,
        )
    if value_type in _READ and not value and status in RECORDED_STATUSES:
        refuse("OBX-5 (the value) is empty.", REQUIRED_FIELD_MISSING, 5)
    measured_at = None
    for segment, field_number in ((obx, 14), (obr, 7)):
        stamp = reader.get(segment, field_number)
        if stamp:
            try:
                measured_at = _aware(hl7.parse_datetime(stamp))
            except (ValueError, OverflowError):
                name = str(segment[0])
                refuse(f"{stamp} is not an HL7 date and time.", DATA_TYPE_ERROR, field_number, name)
            break
    flags = [reader.get(obx, 8, repeat=r) for r in range(1, len(reader.repetitions(obx, 8)) + 1)]
    units = reader.get(obx, 6)
    for field_number, fault in sorted(reader.faults.items()):
        if field_number in (3, 5, 6, 8):  # what is recorded: the others are not read
            refuse(f"OBX-{field_number}: {fault} cannot be read.", DATA_TYPE_ERROR, field_number)
    item = {
        "sample": accession,
        "assay": assay,
        "value": value,
        "units": units,
        "flags": [flag for flag in flags if flag],
        "run_id": run_id,
        "measured_at": measured_at,
    }
    if text is not None:
        item["text"] = text
    return item, problems


def _plain(segment: Any, field: int, component: int = 1, repeat: int = 1) -> str:
    """A field's component for the header's codes, unescaped here (the library's unescaping
    fails on some sequences and would make a hundred megabytes of ``\\.sp99999999\\``)."""
    return component_text(segment, field, component, repeat)[0].strip()


def _aware(moment: datetime) -> datetime:
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _version(message: Any) -> str:
    """MSH-12.1, the version the message says it follows ("" when none can be read)."""
    try:
        return _plain(message.segment("MSH"), 12)
    except (KeyError, IndexError, AttributeError):
        return ""


def _layout(version: str) -> tuple[bool, bool]:
    """(MSH-9 has the message structure component, ERR has ERR-2 to ERR-8) for ``version``:
    the structure from 2.3.1, the new ERR from 2.5; a later or unknown version as 2.5.1."""
    match = re.fullmatch(r"2\.(\d+)(?:\.(\d+))?", version)
    if not match:
        return True, True
    minor, patch = int(match[1]), int(match[2] or 0)
    return (minor, patch) >= (3, 1), minor >= 5


def oru_ack(message: Any, code: str, text: str, problems: list[Problem]) -> str:
    """An ACK (MSA-1 ``code``, MSA-3 ``text``, an ERR per problem) answering ``message`` (a
    python-hl7 message, or its MSH alone as ``Hl7Text.header``; ``None`` when there is none),
    built by the library in the layout of the message's version: the header mirrors the
    message's, with sending and receiving application and facility swapped and its MSH-18
    (the ACK is sent in the message's charset), and MSA-2 echoes its MSH-10."""
    ack, control_id = None, ""
    if message is not None:
        msh = message.segment("MSH")
        control_id = _plain(msh, 10)
        try:
            ack = message.create_ack(code, application=None if _plain(msh, 5) else "LABTRACK")
        except (IndexError, TypeError):  # a header too incomplete to mirror
            ack = None
    if ack is None:
        ack = _STAND_IN.create_ack(code)
        ack.segment("MSA").assign_field(_STAND_IN.escape(control_id), 2)
    elif _plain(message.segment("MSH"), 18):  # the ACK is sent in the message's charset
        ack.segment("MSH").assign_field(str(message.segment("MSH")(18)), 18)
    structure, new_err = _layout(_version(ack))
    if not structure:
        header = ack.segment("MSH")
        header[9] = f"ACK{ack.separators[3]}{_plain(header, 9, component=2)}"
    ack.segment("MSA").assign_field(ack.escape(text), 3)
    for problem in problems:
        ack.append(_err(ack, problem) if new_err else _err_1(ack, problem))
    return str(ack)


def _err(ack: Any, problem: Problem) -> Any:
    """From 2.5: ERR-2 where (segment^sequence^field), ERR-3 the table 0357 code, ERR-4 the
    severity, ERR-8 the message for the person at the middleware."""
    err = ack.create_segment([ack.create_field(["ERR"])])
    err.assign_field(problem.segment, 2, 1, 1)
    err.assign_field(str(problem.sequence), 2, 1, 2)
    if problem.field is not None:
        err.assign_field(str(problem.field), 2, 1, 3)
    for component, value in enumerate((*problem.code, "HL70357"), start=1):
        err.assign_field(value, 3, 1, component)
    err.assign_field(problem.severity, 4)
    err.assign_field(ack.escape(problem.error), 8)
    return err


def _err_1(ack: Any, problem: Problem) -> Any:
    """Up to 2.4: ERR-1 alone, error code and location (CM, ELD in 2.4): segment ^ sequence ^
    field ^ the table 0357 code as a CE in subcomponents (code&text&HL70357). There is no
    place for the severity or the message: MSA-3 says the first problem in words."""
    err = ack.create_segment([ack.create_field(["ERR"])])
    err.assign_field(problem.segment, 1, 1, 1)
    err.assign_field(str(problem.sequence), 1, 1, 2)
    err.assign_field("" if problem.field is None else str(problem.field), 1, 1, 3)
    for subcomponent, value in enumerate((*problem.code, "HL70357"), start=1):
        err.assign_field(value, 1, 1, 4, subcomponent)
    return err
