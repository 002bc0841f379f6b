"""Printable sample labels: Code 128 and QR symbols as SVG, a label sheet as PDF, and ZPL II
text for Zebra label printers. Rendering only; nothing here reads or writes the database."""

from __future__ import annotations

import io
import re

import barcode
import segno
from barcode.writer import SVGWriter

from samples.models import Sample
from samples.pdf import LabPdf

_SIZE = re.compile(r'width="(?P<w>[\d.]+)mm" height="(?P<h>[\d.]+)mm"')
_XML_PROLOGUE = re.compile(r"^\s*<\?xml[^>]*>\s*(<!DOCTYPE[^>]*>\s*)?", re.DOTALL)


def code128_svg(text: str) -> str:
    """A Code 128 symbol as an inline SVG element (no human-readable line: the label adds it)."""
    out = io.BytesIO()
    symbol = barcode.get("code128", text, writer=SVGWriter())
    symbol.write(out, options={"write_text": False, "module_height": 12.0, "quiet_zone": 2.0})
    svg = _XML_PROLOGUE.sub("", out.getvalue().decode())
    # Its coordinates are millimetres: a viewBox lets it scale to whatever box it is put in.
    size = _SIZE.search(svg)
    if size is not None and "viewBox" not in svg:
        svg = svg.replace("<svg ", f'<svg viewBox="0 0 {size["w"]} {size["h"]}" ', 1)
    return svg


def qr_svg(text: str) -> str:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=3, xmldecl=False, border=2)
    return out.getvalue().decode()


def zpl(sample: Sample) -> str:
    """A 2 x 1 inch label at 203 dpi: Code 128 with its text, the subject reference, QR."""
    collected = sample.collected_at.strftime("%Y-%m-%d %H:%M")
    return "\n".join(
        [
            "^XA",
            "^CI28",  # UTF-8 field data
            "^FO20,15^BY2^BCN,70,Y,N,N^FD" + _zpl_field(sample.barcode) + "^FS",
            "^FO20,125^A0N,24,24^FD" + _zpl_field(sample.subject_ref) + "^FS",
            "^FO20,155^A0N,20,20^FD"
            + _zpl_field(f"{sample.get_specimen_type_display()} {collected}")
            + "^FS",
            "^FO300,110^BQN,2,3^FDMA," + _zpl_field(sample.barcode) + "^FS",
            "^XZ",
            "",
        ]
    )


def _zpl_field(text: str) -> str:
    # ^ and ~ start ZPL commands: they may not appear in field data.
    return text.replace("^", " ").replace("~", " ")


def label_sheet_pdf(samples: list[Sample]) -> bytes:
    """A4 sheet, 3 x 8 labels of 70 x 37 mm, each with the Code 128 symbol and the barcode;
    a subject reference too long for the label prints smaller, never past its edge."""
    pdf = LabPdf()
    pdf.set_auto_page_break(auto=False)
    columns, rows, width, height, left, top = 3, 8, 70, 37, 0, 0.5
    for index, sample in enumerate(samples):
        slot = index % (columns * rows)
        if slot == 0:
            pdf.add_page()
        x = left + (slot % columns) * width
        y = top + (slot // columns) * height
        svg = code128_svg(sample.barcode).encode()
        pdf.image(io.BytesIO(svg), x=x + 5, y=y + 4, w=width - 10, h=16)
        pdf.set_xy(x + 5, y + 21)
        pdf.fitted_cell(width - 10, 5, sample.barcode, size=9, align="C")
        pdf.set_xy(x + 5, y + 26)
        text = f"{sample.subject_ref}  {sample.collected_at:%Y-%m-%d %H:%M}"
        pdf.fitted_cell(width - 10, 5, text, size=9, align="C")
    return bytes(pdf.output())
