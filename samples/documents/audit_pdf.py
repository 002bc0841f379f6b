"""The audit trail's selection as a PDF for a person to read (COMPLIANCE.md C6): one line per
entry (time, who, what, reason), oldest first, and a last page with the manifest: the row
count, the time range, the filter, and the SHA-256 of the entries' lines as printed (UTF-8,
one per line, ``time | who | what | reason``). A PDF is built whole in memory, so it holds at
most ``PDF_MAX_ENTRIES`` entries; larger selections are exported as CSV or JSON (streamed).
It is made by a job on the workers (``samples.services.jobs``), not in the request."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.utils import timezone

from samples.documents.audit_export import iso
from samples.documents.pdf import LabPdf
from samples.selectors.audit import AuditFilter, audit_count, audit_entries

PDF_MAX_ENTRIES = 10_000
PROGRESS_EVERY = 500


def pdf_count(chosen: dict[str, str]) -> int:
    """How many entries the PDF of the filter ``chosen`` (``AuditFilter.as_dict``) holds."""
    return audit_count(AuditFilter.from_dict(chosen))


def pdf_render(
    chosen: dict[str, str], *, user: str = "", progress: Callable[[int], None] | None = None
) -> bytes:
    """The PDF of the filter ``chosen`` (``AuditFilter.as_dict``); ``progress`` is told how
    many entries are laid out, every ``PROGRESS_EVERY``. The entries are read first, in one
    transaction, then laid out (the slow part) outside it."""
    selection = AuditFilter.from_dict(chosen)
    lines = [
        " | ".join([entry.stamp, entry.who or "-", entry.what, entry.reason or ""])
        for entry in audit_entries(selection)
    ]
    pdf = LabPdf(orientation="landscape")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.paragraph("LabTrack audit trail", height=5.5, size=14, bold=True)
    sha256 = hashlib.sha256()
    for number, line in enumerate(lines, start=1):
        sha256.update(line.encode() + b"\n")
        pdf.paragraph(line, height=3.6, size=7)
        if progress is not None and number % PROGRESS_EVERY == 0:
            progress(number)
    first, last = (lines[0].split(" | ")[0], lines[-1].split(" | ")[0]) if lines else ("", "")
    pdf.add_page()
    pdf.paragraph("Manifest", height=5.5, size=12, bold=True)
    filters = ", ".join(f"{k} {v}" for k, v in selection.as_dict().items() if v) or "none"
    for text in (
        f"Entries: {len(lines)}",
        f"From: {first or '-'}  To: {last or '-'}",
        f"Filter: {filters}",
        f"Exported at {iso(timezone.now())} by {user or '-'}",
        f"SHA-256 of the entries' lines: {sha256.hexdigest()}",
    ):
        pdf.paragraph(text, height=5.5, size=9)
    return bytes(pdf.output())
