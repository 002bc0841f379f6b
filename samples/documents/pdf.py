"""How LabTrack's PDFs print text, for the report, the dossier, the label sheet and the audit
trail alike: an A4 document set in DejaVu Sans (regular and bold, bundled in
``samples/documents/fonts`` with its licence), falling back to Noto Sans CJK SC (the
``noto-cjk-sans-otc`` package) for the Chinese, Japanese and Korean characters DejaVu lacks, so a
name prints as it is written; and the one line writer the documents share. Rendering only: nothing
here reads the database."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

import noto_cjk_sans_otc
from fontTools.ttLib import TTFont
from fpdf import FPDF

FAMILY = "dejavu"
FONTS = Path(__file__).with_name("fonts")
FACES = {"": FONTS / "DejaVuSans.ttf", "B": FONTS / "DejaVuSans-Bold.ttf"}

CJK_FAMILY = "noto-cjk"
CJK_FILE = Path(noto_cjk_sans_otc.__file__).with_name("NotoSansCJK-Regular.ttc")
CJK_FACE = 2  # the collection holds Noto Sans CJK JP, KR, SC, TC, HK, then the Mono faces


@cache
def _dejavu_characters() -> frozenset[str]:
    """The characters both DejaVu faces draw, and the line breaks the writer handles."""
    faces = [TTFont(path, lazy=True).getBestCmap() for path in FACES.values()]
    return frozenset(chr(code) for code in set.intersection(*map(set, faces))) | {"\n", "\r"}


class LabPdf(FPDF):
    """An A4 document whose text is set in DejaVu Sans, 10 pt, until told otherwise."""

    def __init__(self, *, orientation: Literal["portrait", "landscape"] = "portrait") -> None:
        super().__init__(format="A4", orientation=orientation)
        for style, path in FACES.items():
            self.add_font(FAMILY, style, path)
        self._cjk_added = self._cjk_fallback = False
        self.use_font(size=10)

    def use_font(self, *, size: float, bold: bool = False) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)

    def normalize_text(self, text: str) -> str:
        # Every text passes here before it is measured or drawn. Only a text with a character
        # DejaVu does not draw gets the CJK fallback: fpdf2 then looks at the text one
        # character at a time, several times slower. The collection itself takes a few
        # tenths of a second to read, so it is added the first time a text needs it. (A
        # character neither font draws, Thai for one, is left out and fpdf2 logs a warning
        # naming it; nothing prints as "?".)
        needs_cjk = not _dejavu_characters().issuperset(text)
        if needs_cjk and not self._cjk_added:
            self.add_font(CJK_FAMILY, "", CJK_FILE, collection_font_number=CJK_FACE)
            self._cjk_added = True
        if needs_cjk != self._cjk_fallback:
            self.set_fallback_fonts([CJK_FAMILY] if needs_cjk else [], exact_match=False)
            self._cjk_fallback = needs_cjk
        return super().normalize_text(text)

    def paragraph(
        self, text: object, *, height: float, size: float = 10, bold: bool = False
    ) -> None:
        """Print ``text`` from the left margin across the page, wrapped at spaces (inside a
        word only when it is wider than a line), ``height`` mm a line; the next text goes
        below it."""
        self.use_font(size=size, bold=bold)
        width = self.w - self.r_margin - self.x - 2 * self.c_margin
        for line in self._wrapped(str(text), width):
            self.cell(0, height, line, new_x="LMARGIN", new_y="NEXT")

    def fitted_cell(
        self, width: float, height: float, text: str, *, size: float, align: str = "L"
    ) -> None:
        """``text`` on one line in a cell ``width`` mm wide, in ``size`` pt or, if it is wider
        than the cell at that size, in the size that fits it rather than running past it."""
        self.use_font(size=size)
        room, wide = width - 2 * self.c_margin, self.get_string_width(text)
        if wide > room:
            self.use_font(size=size * room / wide)  # widths grow in proportion to the size
        self.cell(width, height, text, align=align)

    def _wrapped(self, text: str, width: float) -> list[str]:
        # FPDF.multi_cell measures its line again for every character it adds, which makes
        # the audit trail's PDF (up to 10,000 entries) slow; this measures each word once.
        lines = []
        for paragraph in text.replace("\r", "").split("\n"):
            if self.get_string_width(paragraph) <= width:
                lines.append(paragraph)
                continue
            space, line, used = self.get_string_width(" "), "", 0.0
            for word in paragraph.split(" "):
                wide = self.get_string_width(word)
                if line and used + space + wide <= width:
                    line, used = f"{line} {word}", used + space + wide
                    continue
                if line:
                    lines.append(line)
                line, used = word, wide
                while used > width:  # a word wider than the line: cut it where it reaches
                    cut = self._fitting(line, width)
                    lines.append(line[:cut])
                    line = line[cut:]
                    used = self.get_string_width(line)
            lines.append(line)
        return lines

    def _fitting(self, word: str, width: float) -> int:
        """How many of ``word``'s first characters fit in ``width`` (at least one)."""
        used = 0.0
        for count, character in enumerate(word):
            used += self.get_string_width(character)
            if used > width:
                return max(count, 1)
        return len(word)
