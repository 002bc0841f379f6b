"""The released report of a sample, as PDF: its results with flags, retests, and the
signature manifest (who signed, when in UTC, the meaning, and the hash of what was signed).
Rendering only: ``samples.services.results.report_render`` stores it."""

from __future__ import annotations

from datetime import UTC

from fpdf import FPDF

from samples.models import Sample, Signature


def _text(value: object) -> str:
    # The built-in PDF fonts cover Latin-1; anything else prints as "?" rather than failing.
    return str(value).encode("latin-1", "replace").decode("latin-1")


def render_report(
    sample: Sample,
    results: list,  # type: ignore[type-arg]
    signature: Signature,
    *,
    signature_valid: bool = True,
) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 16)
    pdf.cell(0, 10, _text(f"LabTrack report {sample.barcode}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    lines = [
        f"Subject reference: {sample.subject_ref}",
        f"Specimen: {sample.get_specimen_type_display()}, priority {sample.get_priority_display()}",
        f"Collected: {sample.collected_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        f"Received: {sample.received_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        f" ({sample.get_receipt_condition_display().lower()})"
        if sample.received_at
        else "",
    ]
    for line in filter(None, lines):
        pdf.cell(0, 6, _text(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("helvetica", "B", 11)
    for heading, width in (
        ("Assay", 30),
        ("Result", 40),
        ("Units", 30),
        ("Flag", 20),
        ("Tested by", 60),
    ):
        pdf.cell(width, 7, heading, border="B")
    pdf.ln()
    pdf.set_font("helvetica", size=10)
    for result in results:
        source = (
            result.instrument.name
            if result.instrument
            else (f"{result.entered_by.get_username()} (by hand)")
        )
        for text, width in (
            (result.assay.code, 30),
            (f"{result.value.normalize():f}", 40),
            (result.units, 30),
            (result.interpretation or "", 20),
            (source, 60),
        ):
            pdf.cell(width, 7, _text(text))
        pdf.ln()
    pdf.ln(6)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, "Signature manifest", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    for line in (
        f"Signed by: {signature.printed_name}",
        f"Signed at: {signature.signed_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
        f"Meaning: {signature.meaning}",
        f"SHA-256 of the signed results: {signature.content_sha256}",
    ):
        pdf.multi_cell(0, 6, _text(line), new_x="LMARGIN", new_y="NEXT")
    if not signature_valid:
        pdf.set_font("helvetica", "B", 11)
        notice = (
            "THIS SIGNATURE IS NO LONGER VALID: a result was amended after signing; "
            "the results above are the amended ones."
        )
        pdf.multi_cell(0, 7, notice, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
