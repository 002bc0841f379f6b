"""The released report of a sample, as PDF: its results with flags, the corrections of its
results (value and flag before and after, who, when, why), and the signature manifest (who
signed, when in UTC, the meaning, and the hash of what was signed). Rendering only:
``samples.services.results.report_render`` stores it."""

from __future__ import annotations

from datetime import UTC

from samples.documents.pdf import LabPdf
from samples.models import Sample, Signature
from samples.selectors.corrections import result_corrections


def render_report(
    sample: Sample,
    results: list,  # type: ignore[type-arg]
    signature: Signature,
    *,
    signature_valid: bool = True,
) -> bytes:
    pdf = LabPdf()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.paragraph(f"LabTrack report {sample.barcode}", height=10, size=16, bold=True)
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
        pdf.paragraph(line, height=6)
    pdf.ln(4)
    pdf.use_font(size=11, bold=True)
    for heading, width in (
        ("Assay", 30),
        ("Result", 40),
        ("Units", 30),
        ("Flag", 20),
        ("Tested by", 60),
    ):
        pdf.cell(width, 7, heading, border="B")
    pdf.ln()
    pdf.use_font(size=10)
    for result in results:
        source = (
            result.instrument.name
            if result.instrument
            else (f"{result.entered_by.get_username()} (by hand)")
        )
        for text, width in (
            (result.assay.code, 30),
            (result.reading, 40),  # a number, or a qualitative assay's answer
            (result.units, 30),
            (result.interpretation or "", 20),
            (source, 60),
        ):
            pdf.fitted_cell(width, 7, text, size=10)
        pdf.ln()
    corrections = result_corrections(sample)
    if corrections:
        pdf.ln(4)
        pdf.paragraph("Corrections", height=7, size=11, bold=True)
        for correction in corrections:
            pdf.paragraph(
                f"{correction.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC: {correction.words}, "
                f"by {correction.who}; reason: {correction.reason}",
                height=6,
            )
    pdf.ln(6)
    pdf.paragraph("Signature manifest", height=7, size=11, bold=True)
    for line in (
        f"Signed by: {signature.printed_name}",
        f"Signed at: {signature.signed_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
        f"Meaning: {signature.meaning}",
        f"SHA-256 of the signed results: {signature.content_sha256}",
    ):
        pdf.paragraph(line, height=6)
    if not signature_valid:
        notice = (
            "THIS SIGNATURE IS NO LONGER VALID: a result was amended after signing; "
            "the results above are the amended ones."
        )
        pdf.paragraph(notice, height=7, size=11, bold=True)
    return bytes(pdf.output())
