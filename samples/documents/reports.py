"""A released sample's report, as PDF, with what CLIA 42 CFR 493.1291(c) asks of a test report:
the laboratory's name and address (``LAB_NAME``, ``LAB_ADDRESS``), the subject's reference, the
specimen (type, barcode), when it was collected and received and, when it was received
compromised, its condition (with the corrections of that condition); each result with its
units, reference interval and flag, and a legend of the flags; who tested it and when; the
report's date, and "page x of y" on every page. Then the corrections of its results (value and
flag before and after, who, when, why) and the signature manifest (who signed, when in UTC, the
meaning, and the hash of what was signed).

A corrected report (``samples.lifecycle.corrections``) says "CORRECTED REPORT" on every page,
names the report it replaces (its number, date and SHA-256) and lists what changed since it.

Rendering only: ``samples.services.reports`` stores it; ``samples.views.review`` re-renders
the newest for serving when a result was amended after its signature."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from samples.documents.pdf import LabPdf
from samples.models import ReceiptCondition, Sample, Signature
from samples.selectors.corrections import (
    Correction,
    condition_corrections,
    result_corrections,
)
from samples.selectors.review import FLAG_WORDS, reference_range
from samples.values.times import utc_text

# The lab's flags (``Result.interpretation``), in the order the legend gives them.
LEGEND = {
    "L": "low: below the reference interval",
    "H": "high: above the reference interval",
    "LL": "critically low: below the critical limit",
    "HH": "critically high: above the critical limit",
    "A": "abnormal: an answer the assay marks abnormal",
}
# Flags an instrument may report with a result, as the legend explains them when used.
INSTRUMENT_FLAGS = {
    "QC_FAIL": "the instrument's quality control failed",
    "CLOT": "a clot was detected",
    "SHORT_SAMPLE": "short sample: too little specimen",
    "ERROR": "the instrument reported an error",
}
assert set(LEGEND) == set(FLAG_WORDS), "every flag the lab sets has its line in the legend"

COLUMNS = (
    ("Assay", 20),
    ("Result", 24),
    ("Units", 20),
    ("Reference interval", 32),
    ("Flag", 18),
    ("Measured (UTC)", 32),
    ("Tested by", 44),
)


@dataclass(frozen=True)
class Replaced:
    """The report a corrected report replaces, as the corrected one names it."""

    number: int
    created_at: datetime
    sha256: str


class _ReportPdf(LabPdf):
    """A report's pages: the lab and the report named at the top of each, "CORRECTED REPORT"
    on each page of a corrected one, the report's date and "page x of y" at the foot."""

    def __init__(self, *, title: str, corrected: bool, dated: str) -> None:
        super().__init__()
        self.title_line, self.corrected, self.dated = title, corrected, dated
        self.set_auto_page_break(auto=True, margin=18)

    def header(self) -> None:
        self.use_font(size=8)
        self.cell(0, 5, f"{settings.LAB_NAME}: {self.title_line}", new_x="LMARGIN", new_y="NEXT")
        if self.corrected:
            self.use_font(size=11, bold=True)
            self.cell(0, 6, "CORRECTED REPORT", new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-13)
        self.use_font(size=8)
        self.cell(0, 5, f"Report date: {self.dated}", new_x="LMARGIN", new_y="NEXT")
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}")


def render_report(
    sample: Sample,
    results: list[Any],
    signature: Signature,
    *,
    number: int = 1,
    at: datetime,
    replaces: Replaced | None = None,
    signature_valid: bool = True,
) -> bytes:
    """Report ``number`` of ``sample``, dated ``at``: ``results`` (its current ones) as
    ``signature`` released them; a corrected report when it ``replaces`` an earlier one."""
    corrected = replaces is not None
    title = f"{'corrected ' if corrected else ''}report {number} of sample {sample.barcode}"
    pdf = _ReportPdf(title=title, corrected=corrected, dated=utc_text(at))
    pdf.add_page()
    pdf.paragraph(settings.LAB_NAME, height=7, size=14, bold=True)
    for line in settings.LAB_ADDRESS.replace("\\n", "\n").splitlines():
        pdf.paragraph(line, height=5)
    pdf.ln(3)
    heading = f"{'Corrected report' if corrected else 'Report'} {number}: sample {sample.barcode}"
    pdf.paragraph(heading, height=9, size=15, bold=True)
    if replaces is not None:
        pdf.paragraph(
            f"This corrected report replaces report {replaces.number} of "
            f"{utc_text(replaces.created_at)} (SHA-256 {replaces.sha256}).",
            height=6,
            bold=True,
        )
    _specimen(pdf, sample, at)
    all_corrections = [c for c in result_corrections(sample) if c.at <= at]
    _results(pdf, results)
    if replaces is not None:
        changes = [c for c in all_corrections if c.at > replaces.created_at]
        _corrections(pdf, f"What changed since report {replaces.number}", changes)
        earlier = [c for c in all_corrections if c.at <= replaces.created_at]
        _corrections(pdf, "Earlier corrections", earlier)
    else:
        _corrections(pdf, "Corrections", all_corrections)
    _manifest(pdf, signature)
    if not signature_valid:
        pending = [c for c in result_corrections(sample) if c.at > at]
        _corrections(pdf, "Corrected after this report, awaiting review", pending)
        notice = (
            "THIS SIGNATURE IS NO LONGER VALID: a result was amended after signing; "
            "the results above are the amended ones."
        )
        pdf.paragraph(notice, height=7, size=11, bold=True)
    return bytes(pdf.output())


def _specimen(pdf: _ReportPdf, sample: Sample, at: datetime) -> None:
    lines = [
        f"Subject reference: {sample.subject_ref}",
        f"Specimen: {sample.get_specimen_type_display()}, accession barcode {sample.barcode}, "
        f"priority {sample.get_priority_display()}",
        f"Collected: {utc_text(sample.collected_at)}",
    ]
    if sample.received_at:
        lines.append(f"Received: {utc_text(sample.received_at)}")
    lines.append(f"Report date: {utc_text(at)}")
    for line in lines:
        pdf.paragraph(line, height=6)
    amended = [c for c in condition_corrections(sample) if c.at <= at]
    if sample.received_at and (sample.receipt_condition != ReceiptCondition.ACCEPTABLE or amended):
        pdf.paragraph(
            f"Condition at receipt: {sample.get_receipt_condition_display()}"
            + (
                ": received compromised; the results may be affected."
                if sample.receipt_condition != ReceiptCondition.ACCEPTABLE
                else ""
            ),
            height=6,
            bold=True,
        )
        for change in amended:
            pdf.paragraph(
                f"Condition corrected {utc_text(change.at)} from {change.before} to "
                f"{change.after}, by {change.who or 'unknown'}; reason: {change.reason}",
                height=6,
            )


def _results(pdf: _ReportPdf, results: list[Any]) -> None:
    pdf.ln(4)
    pdf.use_font(size=9, bold=True)
    for heading, width in COLUMNS:
        pdf.cell(width, 7, heading, border="B")
    pdf.ln()
    used: list[str] = []
    for result in results:
        source = (
            result.instrument.name
            if result.instrument
            else f"{result.entered_by.get_username()} (by hand)"
        )
        flags = [result.interpretation, *result.flags] if result.interpretation else result.flags
        used += [flag for flag in flags if flag not in used]
        row = (
            result.assay.code,
            result.reading,  # a number, or a qualitative assay's answer
            result.units,
            reference_range(result.assay).removesuffix(result.units).strip(),
            " ".join(flags),
            f"{result.measured_at.astimezone(UTC):%Y-%m-%d %H:%M}",
            source,
        )
        for text, (_, width) in zip(row, COLUMNS, strict=True):
            pdf.fitted_cell(width, 7, text, size=9)
        pdf.ln()
    pdf.ln(2)
    pdf.paragraph("Flags", height=6, size=10, bold=True)
    for flag, words in LEGEND.items():
        pdf.paragraph(f"{flag}: {words}", height=5, size=9)
    pdf.paragraph("No flag: within the reference interval (or a normal answer).", height=5, size=9)
    for flag in used:
        if flag not in LEGEND:
            words = INSTRUMENT_FLAGS.get(flag, "a flag the instrument reported with the result")
            pdf.paragraph(f"{flag}: {words} (instrument flag)", height=5, size=9)


def _corrections(pdf: _ReportPdf, title: str, corrections: list[Correction]) -> None:
    if not corrections:
        return
    pdf.ln(3)
    pdf.paragraph(title, height=7, size=11, bold=True)
    for correction in corrections:
        pdf.paragraph(
            f"{utc_text(correction.at)}: {correction.words}, by {correction.who}; "
            f"reason: {correction.reason}",
            height=6,
        )


def _manifest(pdf: _ReportPdf, signature: Signature) -> None:
    pdf.ln(5)
    pdf.paragraph("Signature manifest", height=7, size=11, bold=True)
    for line in (
        f"Signed by: {signature.printed_name}",
        f"Signed at: {utc_text(signature.signed_at, 'seconds')}",
        f"Meaning: {signature.meaning}",
        f"SHA-256 of the signed results: {signature.content_sha256}",
    ):
        pdf.paragraph(line, height=6)
