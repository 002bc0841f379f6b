"""The label page as the browser draws it (Debian's Chromium, a bench tablet's screen, at one
and two device pixels a CSS pixel), read back with a barcode reader: both symbols whole, each
with its quiet zone, each holding the sample's barcode. The printed forms (PDF sheet, ZPL) are
read in tests/samples/documents/test_label_symbols.py."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from samples import services
from tests import symbols
from tests.cast import PASSWORD
from tests.processes import REPO
from tests.samples.lab import make_assay
from tests.symbols import CODE128, QR

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = REPO / "test-output" / "e2e"
BARCODES = ["S-000123", "HAEM-SERUM-AB12-CD34-EF56-GH78-Z", "00000000000000000000000000012345"]


@pytest.fixture
def registered(technician):
    """Made before the browser starts (see test_bench_flow.scene)."""
    make_assay()
    for barcode in BARCODES:
        services.sample_register(
            user=technician,
            barcode=barcode,
            specimen_type="serum",
            subject_ref="SUBJECT-REFERENCE-" + "X" * 46,
            collected_at=timezone.now() - timedelta(hours=1),
            assays=["GLU"],
        )
    return technician


@pytest.mark.parametrize("scale", [1, 2])
def test_the_label_page_shows_symbols_a_reader_reads_back(registered, live_server, browser, scale):
    context = browser.new_context(
        viewport={"width": 800, "height": 1280}, device_scale_factor=scale
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", registered.username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for barcode in BARCODES:
        page.goto(f"{live_server.url}/samples/{barcode.lower()}/label/")
        label = page.locator(".label-preview")
        shot = label.screenshot(path=SCREENSHOTS / f"label-{barcode}-x{scale}.png")
        found = symbols.read(Image.open(io.BytesIO(shot)))
        assert sorted(symbols.texts(found)) == [(CODE128, barcode), (QR, barcode)], found
        for symbol in found:
            assert symbol.has_quiet_zone(), (barcode, symbol, symbol.quiet_modules())
            # Whole device pixels a module: edges a reader (or a printer) sees sharp.
            assert symbol.module == round(symbol.module) >= scale, (barcode, symbol)
    context.close()
