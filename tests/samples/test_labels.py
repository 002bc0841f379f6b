"""Sample labels: the printable page with both symbols, ZPL, and the PDF label sheet."""

from __future__ import annotations

from samples import labels


def test_the_label_page_shows_code128_and_qr_symbols_as_svg(lab, signed_in):
    lab.register("S-000901")
    body = signed_in(lab.technician).get("/samples/S-000901/label/").content.decode()
    assert body.count("<svg") == 2 and 'viewBox="0 0' in body
    assert "SUBJ-S-000901" in body


def test_code128_encodes_the_barcode_and_qr_is_a_square_symbol():
    svg = labels.code128_svg("S-000901")
    bars = svg.count("<rect")
    assert bars > 20  # one rectangle per bar, plus the background
    assert labels.code128_svg("S-000902") != svg
    assert 'class="segno"' in labels.qr_svg("S-000901")


def test_zpl_holds_the_barcode_in_code128_and_qr_fields(lab, signed_in):
    lab.register("S-000901")
    response = signed_in(lab.reviewer).get("/samples/S-000901/label.zpl")
    text = response.content.decode()
    assert response["Content-Disposition"] == 'attachment; filename="S-000901.zpl"'
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ")
    assert "^BCN,70,Y,N,N^FDS-000901^FS" in text and "^FDMA,S-000901^FS" in text


def test_a_label_sheet_is_a_pdf_and_unknown_barcodes_are_named(lab, signed_in):
    lab.register("S-000901")
    lab.register("S-000902")
    client = signed_in(lab.technician)
    sheet = client.get("/samples/labels.pdf?barcode=S-000901&barcode=s-000902")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    refused = client.get("/samples/labels.pdf?barcode=S-000901&barcode=S-999999")
    assert refused.status_code == 400 and "S-999999" in refused.content.decode()
    assert client.get("/samples/labels.pdf").status_code == 400
