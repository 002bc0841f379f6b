"""The audit trail's selection as a PDF for a person to read (COMPLIANCE.md C6): one line per
entry (time, who, what, reason), oldest first, and a last page with the manifest: the row
count, the time range, the filter, and the SHA-256 of the entries' lines as printed (UTF-8,
one per line, ``time | who | what | reason``). A PDF is built whole in memory, so it holds at
most ``PDF_MAX_ENTRIES`` entries; larger selections are exported as CSV or JSON (streamed)."""

from __future__ import annotations

import hashlib

from django.utils import timezone
from fpdf import FPDF

from samples.audit_export import iso
from samples.selectors_audit import AuditFilter, audit_entries

PDF_MAX_ENTRIES = 10_000


def pdf_export(chosen: AuditFilter, *, user: str = "") -> bytes:
    pdf = FPDF(format="A4", orientation="landscape")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    _write(pdf, "LabTrack audit trail", bold=True, size=14)
    sha256, rows, first, last = hashlib.sha256(), 0, "", ""
    for entry in audit_entries(chosen):
        line = " | ".join([entry.stamp, entry.who or "-", entry.what, entry.reason or ""])
        sha256.update(line.encode() + b"\n")
        rows, first, last = rows + 1, first or entry.stamp, entry.stamp
        _write(pdf, line, size=7)
    pdf.add_page()
    _write(pdf, "Manifest", bold=True, size=12)
    filters = ", ".join(f"{k} {v}" for k, v in chosen.as_dict().items() if v) or "none"
    for text in (
        f"Entries: {rows}",
        f"From: {first or '-'}  To: {last or '-'}",
        f"Filter: {filters}",
        f"Exported at {iso(timezone.now())} by {user or '-'}",
        f"SHA-256 of the entries' lines: {sha256.hexdigest()}",
    ):
        _write(pdf, text, size=9)
    return bytes(pdf.output())


def _write(pdf: FPDF, text: str, *, bold: bool = False, size: int = 9) -> None:
    pdf.set_font("helvetica", "B" if bold else "", size)
    # The built-in fonts cover Latin-1; anything else prints as "?" rather than failing.
    safe = text.replace("→", "->").encode("latin-1", "replace").decode("latin-1")
    pdf.multi_cell(0, 3.6 if size < 8 else 5.5, safe, new_x="LMARGIN", new_y="NEXT")
