"""Sample labels: the printable page with both symbols, ZPL, and the PDF label sheet."""

from __future__ import annotations

from samples.documents import labels, symbols


def test_the_label_page_shows_code128_and_qr_symbols_as_svg(lab, signed_in):
    lab.register("S-000901")
    body = signed_in(lab.technician).get("/samples/S-000901/label/").content.decode()
    assert body.count("<svg") == 2 and 'viewBox="0 0' in body
    assert "SUBJ-S-000901" in body


def test_code128_encodes_the_barcode_and_qr_is_a_full_square_symbol():
    code = symbols.code128("S-000901")
    # Start B, "S", "-", code C, "00", "09", "01", check: 8 characters of 11 modules, stop 13.
    assert len(code.rows) == 1 and len(code.rows[0]) == 8 * 11 + 13
    assert code.rows[0].startswith("11010010000") and code.rows[0].endswith("1100011101011")
    assert symbols.code128_zpl_data("S-000901") == ">:S->5000901"
    assert symbols.code128_zpl_data("12345") == ">;1234>65"
    qr = symbols.qr("S-000901")
    assert len(qr.rows) == len(qr.rows[0]) == 21  # version 1: never a Micro QR
    svg = labels.qr_svg("S-000901")
    assert 'width="116" height="116"' in svg  # (21 + 2 x 4 quiet) modules of 4 pixels


def test_zpl_holds_the_barcode_in_code128_and_qr_fields(lab, signed_in):
    lab.register("S-000901")
    response = signed_in(lab.reviewer).get("/samples/S-000901/label.zpl")
    text = response.content.decode()
    assert response["Content-Disposition"] == 'attachment; filename="S-000901.zpl"'
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ")
    assert "^BCN,64,N,N,N,N^FD>:S->5000901^FS" in text and "^FDMA,S-000901^FS" in text
    assert "^FDS-000901^FS" in text and " UTC^FS" in text  # the barcode and the time in words


def test_a_label_sheet_is_a_pdf_and_unknown_barcodes_are_named(lab, signed_in):
    lab.register("S-000901")
    lab.register("S-000902")
    client = signed_in(lab.technician)
    sheet = client.get("/samples/labels.pdf?barcode=S-000901&barcode=s-000902")
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")
    refused = client.get("/samples/labels.pdf?barcode=S-000901&barcode=S-999999")
    assert refused.status_code == 400 and "S-999999" in refused.content.decode()
    assert client.get("/samples/labels.pdf").status_code == 400
