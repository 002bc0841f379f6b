"""The audit trail's selection as a PDF for a person to read (COMPLIANCE.md C6): one line per
entry (time, who, what, reason), oldest first, and a last page with the manifest: the row
count, the time range, the filter, and the SHA-256 of the entries' lines as printed (UTF-8,
one per line, ``time | who | what | reason``). A PDF is built whole in memory, so it holds at
most ``PDF_MAX_ENTRIES`` entries; larger selections are exported as CSV or JSON (streamed)."""

from __future__ import annotations

import hashlib

from django.utils import timezone

from samples.audit_export import iso
from samples.pdf import LabPdf
from samples.selectors_audit import AuditFilter, audit_entries

PDF_MAX_ENTRIES = 10_000


def pdf_export(chosen: AuditFilter, *, user: str = "") -> bytes:
    pdf = LabPdf(orientation="landscape")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.paragraph("LabTrack audit trail", height=5.5, size=14, bold=True)
    sha256, rows, first, last = hashlib.sha256(), 0, "", ""
    for entry in audit_entries(chosen):
        line = " | ".join([entry.stamp, entry.who or "-", entry.what, entry.reason or ""])
        sha256.update(line.encode() + b"\n")
        rows, first, last = rows + 1, first or entry.stamp, entry.stamp
        pdf.paragraph(line, height=3.6, size=7)
    pdf.add_page()
    pdf.paragraph("Manifest", height=5.5, size=12, bold=True)
    filters = ", ".join(f"{k} {v}" for k, v in chosen.as_dict().items() if v) or "none"
    for text in (
        f"Entries: {rows}",
        f"From: {first or '-'}  To: {last or '-'}",
        f"Filter: {filters}",
        f"Exported at {iso(timezone.now())} by {user or '-'}",
        f"SHA-256 of the entries' lines: {sha256.hexdigest()}",
    ):
        pdf.paragraph(text, height=5.5, size=9)
    return bytes(pdf.output())
