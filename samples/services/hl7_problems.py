"""Why an HL7 v2 message, or one of its results, is not taken: each ``Problem`` is an ERR
segment of the ACK, its code from HL7 table 0357 (message error condition codes)."""

from __future__ import annotations

from dataclasses import dataclass

SEGMENT_SEQUENCE = ("100", "Segment sequence error")
REQUIRED_FIELD_MISSING = ("101", "Required field missing")
DATA_TYPE_ERROR = ("102", "Data type error")
TABLE_VALUE_NOT_FOUND = ("103", "Table value not found")
UNSUPPORTED_MESSAGE_TYPE = ("200", "Unsupported message type")
UNSUPPORTED_EVENT = ("201", "Unsupported event code")
UNSUPPORTED_VERSION = ("203", "Unsupported version id")
UNKNOWN_KEY = ("204", "Unknown key identifier")
APPLICATION_ERROR = ("207", "Application internal error")


@dataclass(frozen=True)
class Problem:
    """Why a message, or one of its results, was not taken: one ERR segment of the ACK, at
    ``segment^sequence^field``. ``obx`` is the number of the OBX (among the message's OBX,
    from 1) whose result it stops, also when it is located in that OBX's OBR; ``None`` for
    a problem of the whole message."""

    error: str
    code: tuple[str, str] = APPLICATION_ERROR
    segment: str = "MSH"
    sequence: int = 1
    field: int | None = None
    severity: str = "E"  # HL7 table 0516: E error, W warning
    obx: int | None = None
