"""The text writer every LabTrack PDF uses (``samples.documents.pdf``): fonts bundled with the code
and embedded in each PDF, names in any script in regular and bold, the CJK font read only when a
text needs it, and lines wrapped inside the margins without losing a character."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from samples.documents.pdf import CJK_FACE, CJK_FILE, FACES, FONTS, LabPdf
from tests.pdf import pdf_text

NAMES = ["Łukasz Wróblewski", "Αλέξανδρος Παπαδόπουλος", "王秀英"]


def document(*texts: str, size: float = 10, bold: bool = False) -> bytes:
    pdf = LabPdf()
    pdf.add_page()
    for text in texts:
        pdf.paragraph(text, height=6, size=size, bold=bold)
    return bytes(pdf.output())


def embedded_fonts(pdf: bytes) -> dict[str, bool]:
    """Each font the PDF uses (without its subset prefix), and whether the PDF holds it."""
    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        for entry in resources["/Font"].values():
            font = entry.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            name = str(font["/BaseFont"]).split("+")[-1]
            fonts[name] = "/FontFile2" in descriptor or "/FontFile3" in descriptor
    return fonts


@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
@pytest.mark.parametrize("size", [7, 16])
def test_names_print_as_written_in_regular_and_bold(size, bold):
    assert pdf_text(document(*NAMES, size=size, bold=bold)).splitlines() == NAMES


def test_the_fonts_come_with_the_code_and_their_licence_and_each_pdf_embeds_them():
    assert [path.name for path in FACES.values()] == ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"]
    assert all(path.parent == FONTS and path.is_file() for path in FACES.values())
    licence = (FONTS / "LICENSE").read_text()
    assert "Bitstream Vera Fonts Copyright" in licence and "Arev Fonts Copyright" in licence
    face = TTFont(CJK_FILE, fontNumber=CJK_FACE, lazy=True)
    assert face["name"].getDebugName(4) == "Noto Sans CJK SC"
    pdf = LabPdf()
    pdf.add_page()
    pdf.paragraph(NAMES[0], height=6)
    pdf.paragraph(NAMES[2], height=6, bold=True)
    assert embedded_fonts(bytes(pdf.output())) == {
        "DejaVuSansBook": True,
        "DejaVuSansBold": True,
        "NotoSansCJKSC": True,
    }


def test_the_cjk_font_is_read_only_for_a_document_whose_text_needs_it():
    assert set(embedded_fonts(document(*NAMES[:2]))) == {"DejaVuSansBook"}
    assert set(embedded_fonts(document(*NAMES))) == {"DejaVuSansBook", "NotoSansCJKSC"}


def test_a_long_text_wraps_at_spaces_inside_the_margins_and_keeps_every_word():
    words = " ".join(f"{name} {n} →" for n in range(30) for name in NAMES)
    lines = pdf_text(document(words, "first line\nsecond line", size=8)).splitlines()
    assert len(lines) > 4 and lines[-2:] == ["first line", "second line"]
    assert " ".join(lines[:-2]) == words
    measure = LabPdf()
    measure.use_font(size=8)
    width = measure.epw - 2 * measure.c_margin
    assert all(measure.get_string_width(line) <= width for line in lines)


def test_a_word_wider_than_a_line_is_cut_where_it_reaches_the_margin():
    word = "0123456789abcdef" * 20  # no space to break at, as a long hash would be
    lines = pdf_text(document(word, size=8)).splitlines()
    assert len(lines) > 1 and "".join(lines) == word
    measure = LabPdf()
    measure.use_font(size=8)
    width = measure.epw - 2 * measure.c_margin
    assert all(width - 3 < measure.get_string_width(line) <= width for line in lines[:-1])


def test_a_text_wider_than_its_cell_prints_smaller_inside_it_and_a_short_one_does_not():
    pdf = LabPdf()
    pdf.add_page()
    subject = f"{NAMES[1]}  2026-12-06 00:59"
    pdf.fitted_cell(60, 5, subject, size=9)
    assert pdf.font_size_pt < 9
    assert pdf.get_string_width(subject) <= 60 - 2 * pdf.c_margin + 1e-6
    pdf.ln()
    pdf.fitted_cell(60, 5, "S-000951", size=9)
    assert pdf.font_size_pt == 9
    assert pdf_text(bytes(pdf.output())).splitlines() == [subject, "S-000951"]


def test_making_a_pdf_logs_nothing_below_a_warning(caplog):
    with caplog.at_level(logging.INFO):
        document(*NAMES)
    assert [r for r in caplog.records if r.levelno < logging.WARNING] == []
