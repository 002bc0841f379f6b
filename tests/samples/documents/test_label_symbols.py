"""Printed labels read back as a scanner reads them: the PDF label sheet rasterised (pypdfium2,
at 600 dpi, a laser printer's resolution) and the ZPL label rendered at the printer's 203 dpi
(zplkit), then every Code 128 and QR decoded (zxing-cpp) and its quiet zone measured.

The browser's label page is read the same way in tests/e2e/test_label_page.py."""

from __future__ import annotations

from datetime import UTC, datetime

import pypdfium2
import pytest
from PIL import Image
from zplkit import Options, render

from samples.documents import labels
from samples.documents import symbols as symbols_module
from samples.models import Sample
from tests import symbols
from tests.symbols import CODE128, QR

# Barcodes as the lab writes them (capital letters, digits and '-', 3 to 32 characters), the
# longest ones both as letters (Code 128 cannot shorten them) and as digits (it can).
BARCODES = [
    "S-000123",
    "S-000124",
    "HAEM-SERUM-AB12-CD34-EF56-GH78-Z",
    "00000000000000000000000000012345",
    "A-1",
    "LAB--2025-0001",
]
DPI = 600
MM = DPI / 25.4  # pixels per millimetre of the rasterised sheet
LABEL_W, LABEL_H, TOP = 70, 37, 0.5  # mm: A4, 3 x 8 labels


def sample(barcode: str, subject_ref: str = "") -> Sample:
    """A sample as the label sees it (the label only prints; nothing is saved)."""
    return Sample(
        barcode=barcode,
        specimen_type="serum",
        subject_ref=subject_ref or f"SUBJ-{barcode}",
        collected_at=datetime(2026, 12, 2, 9, 5, tzinfo=UTC),
    )


def sheet_pages(samples: list[Sample]) -> list[Image.Image]:
    document = pypdfium2.PdfDocument(labels.label_sheet_pdf(samples))
    try:
        return [page.render(scale=DPI / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def label_cell(page: Image.Image, slot: int) -> Image.Image:
    """The part of the page that is the label in ``slot`` (0 to 23), and nothing of its
    neighbours."""
    column, row = slot % 3, slot // 3
    left, top = column * LABEL_W * MM, (TOP + row * LABEL_H) * MM
    return page.crop(
        (round(left), round(top), round(left + LABEL_W * MM), round(top + LABEL_H * MM))
    )


def assert_reads_back(picture: Image.Image, barcode: str) -> list[symbols.Symbol]:
    found = symbols.read(picture)
    assert sorted(symbols.texts(found)) == [(CODE128, barcode), (QR, barcode)], found
    for symbol in found:
        assert symbol.has_quiet_zone(), (barcode, symbol, symbol.quiet_modules())
    return found


@pytest.mark.parametrize("count", [1, 4])
def test_every_label_on_the_sheet_reads_back_its_barcode(count):
    chosen = [sample(b) for b in (BARCODES * 2)[:count]]
    (page,) = sheet_pages(chosen)
    for slot, each in enumerate(chosen):
        assert_reads_back(label_cell(page, slot), each.barcode)
    # The whole page holds exactly these symbols: none lost where two labels meet.
    expected = [(kind, s.barcode) for s in chosen for kind in (CODE128, QR)]
    assert sorted(symbols.texts(symbols.read(page))) == sorted(expected)


def test_a_full_sheet_and_the_next_page_read_back_every_barcode():
    chosen = [sample(f"S-{index:06d}") for index in range(1, 27)]
    first, second = sheet_pages(chosen)
    for slot in range(24):
        assert_reads_back(label_cell(first, slot), chosen[slot].barcode)
    for slot in range(2):
        assert_reads_back(label_cell(second, slot), chosen[24 + slot].barcode)


def test_every_form_of_barcode_fits_its_sheet_label_with_a_module_a_scanner_resolves():
    chosen = [sample(b, subject_ref="SUBJECT-REFERENCE-" + "X" * 46) for b in BARCODES]
    (page,) = sheet_pages(chosen)
    for slot, each in enumerate(chosen):
        found = assert_reads_back(label_cell(page, slot), each.barcode)
        code128, qr = sorted(found, key=lambda s: s.kind)
        # At least 0.15 mm a module (3.5 pixels at 600 dpi), which a laser printer prints and a
        # bench scanner resolves, and no more than a third of a millimetre; the QR's 0.5 mm.
        assert 0.15 * MM <= code128.module <= 0.34 * MM, (each.barcode, code128)
        assert qr.module == pytest.approx(0.5 * MM, abs=1), (each.barcode, qr)


def zpl_label(each: Sample, profile: str) -> Image.Image:
    document = render(labels.zpl(each).encode(), Options(profile=profile))
    (scene,) = document.labels
    raster = scene.rasterize()
    assert (scene.dpi, raster.width, raster.height) == (203, 406, 203)  # 2 x 1 inch
    return Image.frombytes("L", (raster.width, raster.height), raster.pixels)


# As the ZPL specification places a QR, and as a Zebra ZD621 prints one (10 dots lower).
@pytest.mark.parametrize("profile", ["specification", "zd621"])
@pytest.mark.parametrize("barcode", BARCODES)
def test_the_zpl_label_prints_symbols_that_read_back(barcode, profile):
    picture = zpl_label(sample(barcode, subject_ref="SUBJECT-REFERENCE-" + "X" * 46), profile)
    found = symbols.read(picture)
    assert sorted(symbols.texts(found)) == [(CODE128, barcode), (QR, barcode)], found
    code128, qr = sorted(found, key=lambda s: s.kind)
    assert qr.has_quiet_zone(), (barcode, qr, qr.quiet_modules())
    if code128.module * symbols_module.code128(barcode).width <= 406:
        assert code128.has_quiet_zone(), (barcode, code128, code128.quiet_modules())
    else:
        # 32 characters Code 128 cannot shorten (no four digits in a row) take 407 dots with
        # their quiet zones at 1 dot a module: one more than 2 inches hold. The symbol keeps
        # 10 modules at the left and 9 at the label's right edge.
        assert len(barcode) == 32 and code128.module == 1 and code128.quiet == 9, code128
    assert code128.module == round(code128.module) >= 1  # whole printer dots
    assert qr.module == round(qr.module) >= 3
    # Bars 8 mm tall (64 dots), as a hand scanner needs.
    assert code128.box[3] - code128.box[1] + 1 >= 64


def test_the_zpl_label_states_the_collection_time_in_utc():
    text = labels.zpl(sample("S-000123"))
    assert "^PW406" in text and "^LL203" in text  # the label's size, not the printer's last one
    assert "02 Dec 2026 09:05 UTC" in text
