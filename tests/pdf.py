"""Reading back the PDFs LabTrack writes, as a person copying their text would get it."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream

_BFCHAR = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]*)>")


def pdf_text(pdf: bytes) -> str:
    """The text of every page, one line per baseline (the cells of one line joined by a
    space), each string's codes mapped to characters through its font's ToUnicode table.

    pypdf reads the PDF, but not the text: its ``extract_text`` takes the 2-byte codes of
    the CJK fallback font (an embedded encoding CMap) one byte at a time."""
    reader = PdfReader(io.BytesIO(pdf))
    lines: list[str] = []
    for page in reader.pages:
        resources: Any = page["/Resources"]
        fonts = {
            name: _to_unicode(entry.get_object())
            for name, entry in resources.get("/Font", {}).items()
        }
        font: dict[bytes, str] | None = None
        saved: list[dict[bytes, str] | None] = []  # the font is graphics state: q saves, Q restores
        cells: dict[float, list[str]] = {}
        y = 0.0
        for operands, operator in ContentStream(page.get_contents(), reader).operations:
            if operator == b"q":
                saved.append(font)
            elif operator == b"Q":
                font = saved.pop()
            elif operator == b"Tf":
                font = fonts[operands[0]]
            elif operator == b"Td":
                y = round(float(operands[1]), 1)
                cells.setdefault(y, []).append("")
            elif operator in (b"Tj", b"TJ"):
                strings = operands[0] if operator == b"TJ" else [operands[0]]
                text = "".join(_decode(s, font) for s in strings if not isinstance(s, float | int))
                cells.setdefault(y, [""])[-1] += text
        lines += [" ".join(filter(None, cells[y])) for y in sorted(cells, reverse=True)]
    return "\n".join(lines)


def _to_unicode(font: Any) -> dict[bytes, str] | None:
    if "/ToUnicode" not in font:
        return None
    cmap = font["/ToUnicode"].get_object().get_data()
    return {
        bytes.fromhex(code.decode()): bytes.fromhex(text.decode()).decode("utf-16-be")
        for code, text in _BFCHAR.findall(cmap)
    }


def _decode(string: Any, font: dict[bytes, str] | None) -> str:
    data = string.original_bytes if hasattr(string, "original_bytes") else bytes(string)
    if font is None:  # a built-in font: one byte a character
        return data.decode("latin-1")
    return "".join(font.get(data[i : i + 2], "\ufffd") for i in range(0, len(data), 2))
