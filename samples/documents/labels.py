"""Printable sample labels, each with the sample's barcode as a Code 128 and a QR symbol (see
``samples/documents/symbols.py``), the barcode in text, the subject reference, the specimen type
and the collection time in UTC: a page of SVG, an A4 sheet of labels as PDF, and ZPL II text for
Zebra label printers. Rendering only; nothing here reads or writes the database."""

from __future__ import annotations

from samples.documents import symbols
from samples.documents.pdf import LabPdf
from samples.models import Sample
from samples.values.times import utc_text

# The label page: whole CSS pixels a module, the Code 128 at most PAGE_WIDTH pixels wide.
PAGE_WIDTH, PAGE_MODULE_MAX, PAGE_BAR_HEIGHT, PAGE_QR_MODULE = 600, 3, 60, 4

# The PDF sheet (mm): A4, 3 x 8 labels of 70 x 37 mm, the first row 0.5 mm from the top.
SHEET_COLUMNS, SHEET_ROWS, LABEL_W, LABEL_H, SHEET_TOP = 3, 8, 70, 37, 0.5
EDGE = 3  # mm kept clear inside each label's edge (the quiet zones lie within it)
CODE128_MODULE_MAX, CODE128_BARS = 0.33, 10  # mm: the widest module; the bars' height
QR_MODULE = 0.5  # mm

# The ZPL label: 2 x 1 inch at 203 dpi, in printer dots.
ZPL_W, ZPL_H, ZPL_TOP, ZPL_BARS = 406, 203, 12, 64
# A Zebra printer (a ZD621, for one) draws a ^BQ symbol about 10 dots below its ^FO origin,
# where the ZPL specification puts it at the origin: room is left for either.
ZPL_QR_DROP = 10


def code128_svg(text: str) -> str:
    """The Code 128 symbol for the label page: 1 to 3 pixels a module, the widest that keeps it
    within 600 pixels with its quiet zones; bars 60 pixels tall."""
    symbol = symbols.code128(text)
    module = max(1, min(PAGE_MODULE_MAX, PAGE_WIDTH // symbol.width))
    return symbols.svg(symbol, module=module, bar_height=PAGE_BAR_HEIGHT, label=f"Code 128 {text}")


def qr_svg(text: str) -> str:
    """The QR symbol for the label page, 4 pixels a module."""
    return symbols.svg(symbols.qr(text), module=PAGE_QR_MODULE, label=f"QR code {text}")


def label_lines(sample: Sample) -> list[str]:
    """What each label says beside its symbols."""
    return [
        sample.barcode,
        sample.subject_ref,
        sample.get_specimen_type_display(),
        utc_text(sample.collected_at),
    ]


def zpl(sample: Sample) -> str:
    """A 2 x 1 inch label at 203 dpi. The Code 128 across the top, 1 to 3 dots a module (the
    widest that fits the label with its quiet zones; 32 characters without four digits in a
    row need 407 dots even at 1, and keep 9 modules of quiet zone at the label's right edge),
    its bars 64 dots (8 mm) tall; below it the text on the left and the QR on the right, 3 dots
    a module for any barcode the lab allows."""
    code = symbols.code128(sample.barcode)
    module = next((m for m in (3, 2, 1) if code.width * m <= ZPL_W), 1)
    left = max(0, (ZPL_W - code.width * module) // 2) + code.quiet * module
    qr = symbols.qr(sample.barcode)
    below = ZPL_H - (ZPL_TOP + ZPL_BARS) - 4
    magnification = next((m for m in (4, 3) if qr.width * m + ZPL_QR_DROP <= below), 2)
    qr_box = qr.width * magnification
    qr_left = ZPL_W - qr_box
    qr_top = ZPL_TOP + ZPL_BARS + 4 + (below - qr_box - ZPL_QR_DROP) // 2
    text_width = qr_left - 8
    lines = [
        _zpl_text(text, 8, top, height, text_width)
        for (top, height), text in zip(
            [(84, 28), (116, 22), (142, 22), (168, 22)], label_lines(sample), strict=True
        )
    ]
    return "\n".join(
        [
            "^XA",
            "^CI28",  # UTF-8 field data
            f"^PW{ZPL_W}^LL{ZPL_H}^LH0,0",
            f"^FO{left},{ZPL_TOP}^BY{module}"
            f"^BCN,{ZPL_BARS},N,N,N,N^FD{symbols.code128_zpl_data(sample.barcode)}^FS",
            *lines,
            f"^FO{qr_left + qr.quiet * magnification},{qr_top + qr.quiet * magnification}"
            f"^BQN,2,{magnification}^FDMA,{_zpl_field(sample.barcode)}^FS",
            "^XZ",
            "",
        ]
    )


def _zpl_text(text: str, left: int, top: int, height: int, width: int) -> str:
    """``text`` in font 0 within ``width`` dots: set narrower when long (font 0's widest
    characters are about 0.9 of their nominal width; 10 dots is its least), and on two lines
    of half the height when even that is too wide (the longest subject reference, 64
    characters, fits so). The field block keeps it to its width in any case."""
    characters = max(len(text), 1)
    wide = min(height, int(width / (0.9 * characters)))
    rows = 1
    if wide < 10:
        wide, rows, height = 10, 2, max(10, (height + 4) // 2)
    return f"^FO{left},{top}^A0N,{height},{wide}^FB{width},{rows},0,L^FD{_zpl_field(text)}^FS"


def _zpl_field(text: str) -> str:
    # ^ and ~ start ZPL commands: they may not appear in field data.
    return text.replace("^", " ").replace("~", " ")


def label_sheet_pdf(samples: list[Sample]) -> bytes:
    """A4 sheets of 3 x 8 labels of 70 x 37 mm. On each, within 3 mm of its edge: the Code 128
    across the top, up to 0.33 mm a module (narrower for a long barcode, so that it fits with
    its quiet zones: 0.157 mm for the longest), bars 10 mm tall; below it the text on the left
    (a text too long for its line prints smaller, never past it) and the QR on the right, 0.5
    mm a module."""
    pdf = LabPdf()
    pdf.set_auto_page_break(auto=False)
    pdf.set_fill_color(0)
    per_sheet = SHEET_COLUMNS * SHEET_ROWS
    for index, sample in enumerate(samples):
        slot = index % per_sheet
        if slot == 0:
            pdf.add_page()
        x = (slot % SHEET_COLUMNS) * LABEL_W
        y = SHEET_TOP + (slot // SHEET_COLUMNS) * LABEL_H
        _sheet_label(pdf, sample, x, y)
    return bytes(pdf.output())


def _sheet_label(pdf: LabPdf, sample: Sample, x: float, y: float) -> None:
    code = symbols.code128(sample.barcode)
    room = LABEL_W - 2 * EDGE
    module = min(CODE128_MODULE_MAX, room / code.width)
    left = x + (LABEL_W - code.width * module) / 2
    _draw(pdf, code, left, y + EDGE, module, CODE128_BARS)
    qr = symbols.qr(sample.barcode)
    box = qr.width * QR_MODULE
    qr_left, qr_top = x + LABEL_W - EDGE - box, y + EDGE + CODE128_BARS + 1
    _draw(pdf, qr, qr_left, qr_top, QR_MODULE, QR_MODULE)
    text_width = qr_left - (x + EDGE) - 1
    for line, (text, size) in enumerate(zip(label_lines(sample), (9, 8, 8, 8), strict=True)):
        pdf.set_xy(x + EDGE, y + EDGE + CODE128_BARS + 1.5 + 5 * line)
        pdf.fitted_cell(text_width, 5, text, size=size)


def _draw(
    pdf: LabPdf, symbol: symbols.Symbol, left: float, top: float, module: float, row: float
) -> None:
    """``symbol`` with its quiet zones from (``left``, ``top``) mm, ``module`` mm a module and
    ``row`` mm a row of modules."""
    inside = left + symbol.quiet * module
    top += symbol.quiet * module if len(symbol.rows) > 1 else 0
    for line, first, count in symbol.runs():
        pdf.rect(inside + first * module, top + line * row, count * module, row, style="F")
