"""The bytes of an HL7 v2 message, as received, made into the text that is read.

- Before the MSH: a UTF-8 byte-order mark, an MLLP start block (VT, 0x0B) and blank lines or
  spaces are skipped; after the message, an MLLP end block (FS, 0x1C, then CR) is.
- The character set: the HTTP Content-Type's ``charset`` when it names one; else MSH-18, the
  first repetition, as HL7 table 0211 names it (``ASCII``, ``8859/1`` to ``8859/15``,
  ``UNICODE UTF-8``, ``ISO IR87``...: ``CHARSETS`` below); else UTF-8 (of which the table's
  default, ASCII, is a part). MSH-18 is read from the bytes: the header is ASCII whatever the
  charset of the rest (a UTF-16 or UTF-32 message can only be declared by the Content-Type).
  MSH-18 arrived in 2.3: a 2.2 message is read as UTF-8 unless the Content-Type says otherwise.
- Refused, each with a ``Problem`` (the answer is an AR) but never an exception: a NUL byte
  anywhere (PostgreSQL text cannot hold one, and no HL7 field may), a charset the
  Content-Type or MSH-18 names that is not known, bytes that are not text in the charset.
  The ``header`` is read all the same (MSH alone, from its ASCII bytes) so that the AR
  mirrors it and MSA-2 echoes MSH-10.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any

import hl7

from samples.services.hl7_escapes import component_text
from samples.services.hl7_problems import (
    APPLICATION_ERROR,
    DATA_TYPE_ERROR,
    TABLE_VALUE_NOT_FOUND,
    Problem,
)

# HL7 table 0211 (alternate character sets) to Python codecs. ISO IR14, IR87 and IR159 are
# the Japanese sets reached by ISO 2022 escape sequences (ESC $ B...), which those codecs read.
CHARSETS = {
    "ASCII": "ascii",
    "ISO IR6": "ascii",
    **{f"8859/{n}": f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16)},
    "ISO IR14": "iso2022_jp_ext",
    "ISO IR87": "iso2022_jp",
    "ISO IR159": "iso2022_jp_2",
    "JIS X 0202": "iso2022_jp",
    "GB 18030-2000": "gb18030",
    "KS X 1001": "euc_kr",
    "BIG-5": "big5",
    "UNICODE": "utf-8",  # deprecated in 2.5 for the named encodings below
    "UNICODE UTF-8": "utf-8",
    "UNICODE UTF-16": "utf-16",
    "UNICODE UTF-32": "utf-32",
}
_WIDE = ("utf-16", "utf-32")  # ASCII characters take more than one byte: the header cannot be read
_UTF8_BOM = b"\xef\xbb\xbf"
_LEADING = b" \t\r\n\x0b\x0c"  # spaces, blank lines, MLLP's start block (VT)
_MLLP_END = re.compile(rb"\x1c[\r\n]*\Z")


@dataclass(frozen=True)
class Hl7Text:
    """What ``hl7_text`` read: the ``text`` to read (the whole body in the charset, lossy
    where it could not be read), the Python ``charset`` it was read in (``None`` when none
    could be chosen), the ``problem`` that makes it an AR (``None`` when it can be read) and
    the ``header``: the MSH alone, as a python-hl7 message, for the ACK to mirror (``None``
    when the bytes do not begin with a readable MSH)."""

    text: str
    charset: str | None
    problem: Problem | None
    header: Any = None

    @property
    def control_id(self) -> str:
        if self.header is None:
            return ""
        return component_text(self.header.segment("MSH"), 10)[0].strip()


def hl7_text(raw: bytes, declared_charset: str | None) -> Hl7Text:
    """The text of the message received as ``raw``; ``declared_charset`` is the Content-Type's
    ``charset`` parameter, ``None`` when it names none."""
    start = raw[len(_UTF8_BOM) :] if raw.startswith(_UTF8_BOM) else raw
    start = start.lstrip(_LEADING)
    body = _MLLP_END.sub(b"", start)
    header, fields = _header(body)
    charset, problem = _charset(declared_charset, fields)
    if charset in _WIDE or (charset or "").startswith(_WIDE):
        return _wide(raw, charset or "", header)
    if problem is None and b"\x00" in raw:
        problem = _nul(raw, raw.index(b"\x00"))
    if problem is not None:
        return Hl7Text(_lossy(body, charset), charset, problem, header)
    assert charset is not None
    try:
        text = body.decode(charset)
    except UnicodeDecodeError as error:
        where = _located(body, error.start)
        named = len(fields) > 17 and fields[17].strip()
        said = "the Content-Type" if declared_charset else ("MSH-18" if named else "")
        why = f" (as {said} says)" if said else " (UTF-8 unless the Content-Type or MSH-18 says)"
        problem = Problem(
            f"The message is not {charset} text{why}: byte 0x{body[error.start]:02X} in "
            f"{where[0]} cannot be read.",
            DATA_TYPE_ERROR,
            *where,
        )
        return Hl7Text(_lossy(body, charset), charset, problem, header)
    return Hl7Text(text, charset, None, header)


def _header(body: bytes) -> tuple[Any, list[str]]:
    """The MSH segment read from its bytes as ASCII (anything else stands as U+FFFD), as a
    python-hl7 message, and its fields split (``fields[n - 1]`` is MSH-n)."""
    if not body.startswith(b"MSH") or len(body) < 8:
        return None, []
    line = re.split(rb"[\r\n]", body, maxsplit=1)[0].replace(b"\x00", b"")
    text = line.decode("ascii", errors="replace")
    if len(text) < 8:
        return None, []
    separator, encoding = text[3], text[4:8]
    fields = text.split(separator)
    symbols = separator + encoding
    if len(set(symbols)) != 5 or any(c.isalnum() or c.isspace() for c in symbols):
        return None, fields
    try:
        header = hl7.parse(text + "\r")
        header.segment("MSH")
    except (hl7.HL7Exception, ValueError, IndexError, KeyError, AssertionError):
        header = None
    return header, fields


def _charset(declared: str | None, fields: list[str]) -> tuple[str | None, Problem | None]:
    if declared:
        try:
            return codecs.lookup(declared.strip()).name, None
        except LookupError:
            return None, Problem(
                f"The Content-Type's charset {declared!r} is not a character set known here.",
                APPLICATION_ERROR,
            )
    named = fields[17] if len(fields) > 17 else ""
    repetition = fields[1][1:2] if len(fields) > 1 else "~"
    first = named.split(repetition)[0].strip() if repetition else named.strip()
    if not first:
        return "utf-8", None
    codec = CHARSETS.get(first.upper())
    if codec is None:
        return None, Problem(
            f"MSH-18 names the character set {first!r}, which is not in HL7 table 0211 as "
            f"read here ({', '.join(sorted(CHARSETS))}).",
            TABLE_VALUE_NOT_FOUND,
            field=18,
        )
    return codecs.lookup(codec).name, None


def _wide(raw: bytes, charset: str, header: Any) -> Hl7Text:
    """A UTF-16 or UTF-32 message (declared by the Content-Type): decoded first, then its
    byte-order mark and framing skipped, and a NUL looked for among its characters."""
    try:
        text = raw.decode(charset)
    except UnicodeDecodeError as error:
        problem = Problem(
            f"The message is not {charset} text: byte {error.start} cannot be read.",
            DATA_TYPE_ERROR,
        )
        return Hl7Text(_lossy(raw, charset), charset, problem, None)
    text = text.lstrip("\ufeff").lstrip(" \t\r\n\x0b\x0c")
    text = re.sub(r"\x1c[\r\n]*\Z", "", text)
    if header is None and text.startswith("MSH"):
        header, _ = _header(text.split("\r")[0].split("\n")[0].encode("ascii", "replace"))
    if "\x00" in text:
        problem = Problem(
            "The message holds a NUL character (U+0000), which is never accepted.",
            DATA_TYPE_ERROR,
        )
        return Hl7Text(text.replace("\x00", "\ufffd"), charset, problem, header)
    return Hl7Text(text, charset, None, header)


def _nul(raw: bytes, position: int) -> Problem:
    if not raw[position:].strip(b"\x00 \t\r\n\x1c"):
        where, (segment, sequence) = "after the message (padding)", ("MSH", 1)
    else:
        segment, sequence = _located(raw, position)
        where = f"in {segment}"
    return Problem(
        f"The message holds a NUL (byte 0x00) {where}, which is never accepted: send the "
        "message without it.",
        DATA_TYPE_ERROR,
        segment,
        sequence,
    )


def _located(body: bytes, position: int) -> tuple[str, int]:
    """The segment (name, and its number among segments of that name) holding byte
    ``position``."""
    lines = re.split(rb"\r\n|\r|\n", body[: position + 1])
    name = lines[-1][:3].decode("ascii", errors="replace") if lines else ""
    if not re.fullmatch(r"[A-Z][A-Z0-9]{2}", name):
        return "MSH", 1
    count = sum(1 for line in lines if line[:3].decode("ascii", errors="replace") == name)
    return name, count


def _lossy(body: bytes, charset: str | None) -> str:
    """The body as text for a person: what cannot be read (and NUL) as U+FFFD."""
    text = body.decode(charset or "utf-8", errors="replace")
    return text.replace("\x00", "\ufffd")
