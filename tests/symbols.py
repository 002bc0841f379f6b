"""Reading printed labels back as a scanner would: every Code 128 and QR symbol in a picture of a
label, decoded with zxing-cpp, and the quiet zone around each measured in the picture's pixels
(10 modules either side of a Code 128, 4 modules all round a QR), so a symbol that reads only
because the reader is lenient, or that runs into its neighbour, still fails."""

from __future__ import annotations

from dataclasses import dataclass

import zxingcpp
from PIL import Image

CODE128 = "Code128"
QR = "QRCode"
CODE128_QUIET = 10  # modules
QR_QUIET = 4  # modules
LIGHT = 160  # a grey level at or above this is paper


@dataclass(frozen=True)
class Symbol:
    kind: str  # CODE128, QR, or the name of another kind of symbol
    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels, inclusive
    module: float  # pixels per module
    quiet: float  # the light margin found, in pixels (the narrowest side)

    def quiet_modules(self) -> float:
        return self.quiet / self.module

    def has_quiet_zone(self) -> bool:
        """At least 10 modules either side of a Code 128, 4 all round a QR (give or take a
        quarter of a module, for the grey pixel a rasteriser leaves at an edge)."""
        needed = {CODE128: CODE128_QUIET, QR: QR_QUIET}[self.kind]
        return self.quiet + min(1, self.module / 4) >= needed * self.module


def read(image: Image.Image) -> list[Symbol]:
    """Every symbol the reader finds in ``image`` (of any kind: a Micro QR where a QR should
    be is found, and named), left to right, top to bottom."""
    grey = image.convert("L")
    found = zxingcpp.read_barcodes(grey, try_rotate=False)
    symbols = [_measure(grey, result) for result in found]
    return sorted(symbols, key=lambda s: (s.box[1] // 20, s.box[0]))


def texts(symbols: list[Symbol]) -> list[tuple[str, str]]:
    return [(s.kind, s.text) for s in symbols]


def _measure(grey: Image.Image, result: zxingcpp.Barcode) -> Symbol:
    points = [result.position.top_left, result.position.top_right]
    points += [result.position.bottom_right, result.position.bottom_left]
    box = (
        min(p.x for p in points),
        min(p.y for p in points),
        max(p.x for p in points),
        max(p.y for p in points),
    )
    if result.format == zxingcpp.BarcodeFormat.Code128:
        module, quiet = _code128_quiet(grey, box)
        return Symbol(CODE128, result.text, box, module, quiet)
    if result.format == zxingcpp.BarcodeFormat.QRCode:
        module, quiet = _qr_quiet(grey, box)
        return Symbol(QR, result.text, box, module, quiet)
    return Symbol(result.format.name, result.text, box, 0, 0)


def _paper(pixels, size: tuple[int, int], x: int, y: int) -> bool:
    """Light, and inside the picture (the picture's edge is the label's: nothing beyond it)."""
    return 0 <= x < size[0] and 0 <= y < size[1] and pixels[x, y] >= LIGHT


def _light_run(pixels, size: tuple[int, int], x: int, y: int, step: int) -> int:
    run = 0
    while _paper(pixels, size, x, y):
        run, x = run + 1, x + step
    return run


def _code128_quiet(grey: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """Each row through the middle half of the bars: the bars' extent, the module (the stop
    pattern ends in a bar two modules wide) and the light run either side."""
    pixels, size = grey.load(), grey.size
    left, top, right, bottom = box
    modules, sides = [], []
    for y in range(top + (bottom - top) // 4, bottom - (bottom - top) // 4 + 1):
        row = [x for x in range(left - 2, right + 3) if not _paper(pixels, size, x, y)]
        row = [x for x in row if 0 <= x < size[0]]
        if not row:
            continue
        first, last = row[0], row[-1]
        end = last
        while not _paper(pixels, size, end - 1, y):
            end -= 1
        modules.append((last - end + 1) / 2)
        sides.append(
            min(
                _light_run(pixels, size, first - 1, y, -1), _light_run(pixels, size, last + 1, y, 1)
            )
        )
    if not modules:
        raise AssertionError(f"no bars found in {box}")
    module = sorted(modules)[len(modules) // 2]
    return module, min(sides)


def _qr_quiet(grey: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """The symbol's outline found again in the pixels (the reader's may be a pixel out): the
    finder patterns' outer edges; the module from the top-left one's top edge (7 dark
    modules); then the nearest dark pixel (or picture edge) within 4 modules of the symbol."""
    pixels, size = grey.load(), grey.size
    left, top, right, bottom = box
    dark = lambda x, y: not _paper(pixels, size, x, y)  # noqa: E731
    # The finder patterns' outer rows and columns are dark: move each side onto them.
    left = _edge(range(left - 2, left + 3), lambda x: dark(x, top + 2), left)
    top = _edge(range(top - 2, top + 3), lambda y: dark(left + 2, y), top)
    right = _edge(range(right + 2, right - 3, -1), lambda x: dark(x, top + 2), right)
    bottom = _edge(range(bottom + 2, bottom - 3, -1), lambda y: dark(left + 2, y), bottom)
    for _ in range(2):  # and the grey fringe a rasteriser leaves along an edge
        left -= any(dark(left - 1, y) for y in range(top, bottom + 1))
        right += any(dark(right + 1, y) for y in range(top, bottom + 1))
        top -= any(dark(x, top - 1) for x in range(left, right + 1))
        bottom += any(dark(x, bottom + 1) for x in range(left, right + 1))
    run = 0
    while dark(left + run, top) and left + run <= right:
        run += 1
    module = run / 7
    margin = round(QR_QUIET * module) + 1
    nearest = margin
    for y in range(top - margin, bottom + margin + 1):
        for x in range(left - margin, right + margin + 1):
            if left <= x <= right and top <= y <= bottom:
                continue
            if dark(x, y):
                nearest = min(nearest, max(left - x, x - right, top - y, y - bottom) - 1)
    return module, nearest


def _edge(candidates: range, is_dark, fallback: int) -> int:
    return next((c for c in candidates if is_dark(c)), fallback)
