"""HL7 v2 escape sequences (chapter 2, "Use of escape sequences in text fields"), read in the
message's character set. python-hl7's own unescaping turns each byte of ``\\X..\\`` into a
character of its own (``\\XC3A9\\`` becomes ``Ã©``, not ``é``) and ``\\.br\\`` into a CR, the
segment separator: values are unescaped here instead.

- ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\`` (and ``\\P\\``, the truncation character from 2.7): the
  separator or escape character itself;
- ``\\Xhhhh..\\``: bytes in hexadecimal, decoded in the message's character set (MSH-18, or
  the HTTP charset); adjacent ``\\X..\\`` sequences are one run of bytes, so a character split
  across two of them is read whole;
- ``\\.br\\`` a line break (``\\n``), ``\\.sp n\\`` n line breaks, ``\\.sk n\\`` n spaces
  (n at most 100), ``\\.ce\\`` a line break; ``\\.in\\ \\.ti\\ \\.fi\\ \\.nf\\`` (indents and
  filling) and the highlighting marks ``\\H\\ \\N\\`` only format the text and give nothing;
- ``\\Zxxx\\`` (locally defined), an unknown or unterminated sequence: kept as sent;
- ``\\Cxxyy\\`` and ``\\Mxxyyzz\\`` switch to another character set (ISO 2022) for what follows:
  that text is not read, and neither are bytes that are not text in the character set or
  that give a control character (a NUL could not even be stored): the value comes back with
  what could not be read, for the caller to refuse.
"""

from __future__ import annotations

import re
from typing import Any

_HEX = re.compile(r"[0-9A-Fa-f]+")
_FORMATTING = {"H": "", "N": "", ".br": "\n", ".fi": "", ".nf": "", ".ce": "\n"}
_REPEATED = {".sp": "\n", ".sk": " "}  # followed by a count (1 when none)
_MAX_REPEAT = 100  # \.sp99999999\ would be a hundred megabytes of line breaks
_INDENTS = (".in", ".ti")  # followed by a signed count: formatting only
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def unescape(value: str, encoding: str, charset: str) -> tuple[str, str | None]:
    """``value`` (one component as sent) with its escape sequences read. ``encoding`` is the
    field separator then MSH-2 (``|^~\\&``, or ``|^~\\&#`` from 2.7); ``charset`` the Python
    codec of the message. Returns the text and, when part of it could not be read, the
    sequence at fault (``None`` when all was read)."""
    escape = encoding[3] if len(encoding) > 3 else "\\"
    if escape not in value:
        return value, None
    named = {"F": encoding[0], "S": encoding[1], "R": encoding[2], "E": escape}
    named["T"] = encoding[4] if len(encoding) > 4 else ""
    named["P"] = encoding[5] if len(encoding) > 5 else ""
    out: list[str] = []
    hex_run: list[bytes] = []
    fault: str | None = None

    def flush() -> None:
        nonlocal fault
        if not hex_run:
            return
        data = b"".join(hex_run)
        hex_run.clear()
        try:
            text = data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            fault = fault or f"\\X{data.hex().upper()}\\ (not {charset} text)"
            out.append("\ufffd")
            return
        if _CONTROL.search(text):
            fault = fault or f"\\X{data.hex().upper()}\\ (a control character)"
            text = _CONTROL.sub("\ufffd", text)
        out.append(text)

    position = 0
    while position < len(value):
        start = value.find(escape, position)
        end = value.find(escape, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:  # no (more) sequences, or one left open: the rest as sent
            flush()
            out.append(value[position:])
            break
        sequence = value[start + 1 : end]
        if start > position:
            flush()
            out.append(value[position:start])
        position = end + 1
        if sequence[:1] == "X" and _HEX.fullmatch(sequence[1:]) and len(sequence) % 2 == 1:
            hex_run.append(bytes.fromhex(sequence[1:]))
            continue
        flush()
        if named.get(sequence):
            out.append(named[sequence])
        elif sequence in _FORMATTING:
            out.append(_FORMATTING[sequence])
        elif sequence[:3] in _REPEATED and _count(sequence[3:]) is not None:
            out.append(_REPEATED[sequence[:3]] * min(_count(sequence[3:]) or 1, _MAX_REPEAT))
        elif sequence[:3] in _INDENTS and _count(sequence[3:].lstrip("+-")) is not None:
            pass
        elif sequence[:1] in ("C", "M") and _HEX.fullmatch(sequence[1:]):
            fault = fault or f"\\{sequence}\\ (a switch to another character set)"
            out.append(value[start:])  # what follows is in that other set: kept as sent
            position = len(value)
        else:  # \Z..\ (locally defined), \X\ with odd digits, or unknown: as sent
            if sequence[:1] == "X":
                fault = fault or f"\\{sequence}\\ (not whole bytes in hexadecimal)"
            out.append(value[start : end + 1])
    flush()
    return "".join(out), fault


def _count(digits: str) -> int | None:
    """The count after ``.sp``, ``.sk``, ``.in`` or ``.ti``: 0 when none, ``None`` when not
    digits."""
    digits = digits.strip()
    if not digits:
        return 0
    return int(digits) if digits.isdigit() else None


def component_text(
    segment: Any,
    number: int,
    component: int = 1,
    repeat: int = 1,
    charset: str = "utf-8",
    encoding: str | None = None,
) -> tuple[str, str | None]:
    """Field ``number`` (repetition ``repeat``, component ``component``, its first
    subcomponent) of a python-hl7 segment, unescaped here: empty when not sent. ``encoding``
    as for ``unescape``; without it, the segment's own separators."""
    if number >= len(segment):
        return "", None
    if encoding is None:
        separators = segment.separators  # segment, field, repetition, component, subcomponent
        encoding = separators[1] + separators[3] + separators[2] + segment.esc + separators[4]
    repetitions = str(segment(number)).split(encoding[2])
    if repeat > len(repetitions):
        return "", None
    components = repetitions[repeat - 1].split(encoding[1])
    if component > len(components):
        return "", None
    return unescape(components[component - 1].split(encoding[4])[0], encoding, charset)
