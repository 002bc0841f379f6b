"""Barcode symbols as modules, for every form of label to draw the same way.

A Code 128 symbol is one row of modules, a QR symbol a square of rows; each module is dark
("1") or light ("0"). The labels draw each module the same width (a whole number of pixels on
a screen, of dots on a thermal printer) and leave the quiet zones the standards ask for: 10
modules either side of a Code 128 (ISO/IEC 15417), 4 all round a QR (ISO/IEC 18004). Always a
full QR (never a Micro QR, which many scanners do not read), error correction level M.
Rendering only; nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import segno
from barcode.codex import Code128

CODE128_QUIET = 10  # modules either side
QR_QUIET = 4  # modules all round

# Code 128's start and code-set characters, as ZPL's ^BC writes them in its field data.
_ZPL_START = {103: ">9", 104: ">:", 105: ">;"}
_ZPL_SWITCH = {99: (">5", "C"), 100: (">6", "B"), 101: (">7", "A")}


@dataclass(frozen=True)
class Symbol:
    rows: tuple[str, ...]  # "1" dark, "0" light; no quiet zone
    quiet: int  # modules of quiet zone needed at each side (and above and below a QR)

    @property
    def width(self) -> int:
        """Modules across, quiet zones included."""
        return len(self.rows[0]) + 2 * self.quiet

    @property
    def height(self) -> int:
        """Rows of modules, quiet zones included (a Code 128's single row stands for its bars)."""
        return len(self.rows) + (2 * self.quiet if len(self.rows) > 1 else 0)

    def runs(self) -> Iterator[tuple[int, int, int]]:
        """(row, first module, modules) of each run of dark modules, counted from the
        symbol's own top left corner, inside its quiet zones."""
        for row, modules in enumerate(self.rows):
            start = None
            for column, module in enumerate(modules + "0"):
                if module == "1" and start is None:
                    start = column
                elif module == "0" and start is not None:
                    yield row, start, column - start
                    start = None


def code128(text: str) -> Symbol:
    """The Code 128 symbol of ``text``: code set C where four or more digits follow each other
    (two digits a character), code set B elsewhere, then the check character and stop."""
    return Symbol((Code128(text).build()[0],), CODE128_QUIET)


def qr(text: str) -> Symbol:
    """The smallest full QR symbol holding ``text`` at error correction level M."""
    symbol = segno.make_qr(text, error="m", boost_error=False)
    rows = tuple("".join("1" if m else "0" for m in row) for row in symbol.matrix)
    return Symbol(rows, QR_QUIET)


def code128_zpl_data(text: str) -> str:
    """``text`` as ZPL's ^BC field data with the code sets spelt out (>: start B, >; start C,
    >5 to C, >6 to B), so the printer draws exactly the characters ``code128`` counts."""
    values = Code128(text).encoded
    start = _ZPL_START[values[0]]
    subset = "ABC"[values[0] - 103]
    out = [start]
    for value in values[1:]:
        switch = value in (100, 101) if subset == "C" else value in _ZPL_SWITCH
        if switch:
            code, subset = _ZPL_SWITCH[value]
            out.append(code)
        elif subset == "C":
            out.append(f"{value:02d}")
        else:
            out.append(chr(value + 32))
    return "".join(out)


def svg(symbol: Symbol, *, module: int, bar_height: int = 0, label: str = "") -> str:
    """An inline SVG of ``symbol``, ``module`` CSS pixels a module (a whole number, so every
    edge falls on a pixel), its quiet zones included; a Code 128's bars ``bar_height`` pixels
    tall."""
    quiet = symbol.quiet * module
    row_height = bar_height if len(symbol.rows) == 1 else module
    width = symbol.width * module
    height = bar_height if len(symbol.rows) == 1 else symbol.height * module
    top = 0 if len(symbol.rows) == 1 else quiet
    path = "".join(
        f"M{quiet + first * module},{top + row * row_height}"
        f"h{count * module}v{row_height}h-{count * module}z"
        for row, first, count in symbol.runs()
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" shape-rendering="crispEdges" role="img" '
        f'aria-label="{label}"><rect width="{width}" height="{height}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>'
    )
