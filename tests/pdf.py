"""Reading back the PDFs LabTrack writes."""

from __future__ import annotations

import re
import zlib


def pdf_text(pdf: bytes) -> bytes:
    """The content of a PDF's streams, each inflated from its first byte to the end of its
    compressed data (which says where it ends), so no byte of the data is mistaken for the
    line break before ``endstream``."""
    return b"".join(
        zlib.decompressobj().decompress(pdf[start.end() :])
        for start in re.finditer(rb"(?<!end)stream\r?\n", pdf)
    )
