"""What a released report says (CLIA 42 CFR 493.1291(c)), read back from the PDF as a person
copying its text would get it: the laboratory's name and address, the subject, the specimen,
collection and receipt times, each result with its units, reference interval and flag, a legend
of the flags, the report's date, "page x of y" on every page, and the condition of a specimen
received compromised with its corrections."""

from __future__ import annotations

import io
import re
from datetime import UTC, timedelta

import pytest
from django.utils import timezone
from pypdf import PdfReader

from samples import services
from samples.documents.reports import render_report
from samples.models import Assay, Report, Result, Sample, Signature
from samples.selectors.signatures import current_results
from samples.values.times import utc_text
from tests.pdf import pdf_text
from tests.samples.lab import make_assay

DASH = "\N{EN DASH}"


@pytest.fixture
def lab_identity(settings):
    settings.LAB_NAME = "Northfield Hospital Laboratory"
    settings.LAB_ADDRESS = "12 Mill Lane\\nNorthfield NF1 4AB"


def released(lab, barcode: str, value: str, condition: str = "acceptable") -> Sample:
    lab.register(barcode)
    lab.receive(barcode, condition)
    lab.analyse(barcode, value)
    lab.verify(barcode)
    return Sample.objects.get(barcode=barcode)


def report_text(barcode: str, number: int = 1) -> str:
    return pdf_text(bytes(Report.objects.get(sample__barcode=barcode, number=number).pdf))


def pages(pdf: bytes) -> list[str]:
    return [pdf_text(_single(pdf, n)) for n in range(len(PdfReader(io.BytesIO(pdf)).pages))]


def _single(pdf: bytes, index: int) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(pdf)).pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_the_report_names_the_lab_the_subject_the_specimen_and_its_times(lab, lab_identity):
    sample = released(lab, "S-000931", "7.2")
    text = report_text("S-000931")
    lines = text.splitlines()
    report = Report.objects.get(sample=sample)
    assert "Northfield Hospital Laboratory" in lines
    assert lines[lines.index("12 Mill Lane") :][:2] == ["12 Mill Lane", "Northfield NF1 4AB"]
    assert "Subject reference: SUBJ-S-000931" in lines
    assert "Specimen: Serum, accession barcode S-000931, priority Routine" in lines
    assert f"Collected: {utc_text(sample.collected_at)}" in lines
    assert f"Received: {utc_text(sample.received_at)}" in lines
    assert f"Report date: {utc_text(report.created_at)}" in lines
    result = Result.objects.get(sample=sample)
    measured = f"{result.measured_at.astimezone(UTC):%Y-%m-%d %H:%M}"
    row = f"GLU 7.2 mmol/L 3.9{DASH}5.6 H {measured} Cobas-1"
    assert row in lines, "\n".join(lines)
    assert "Assay Result Units Reference interval Flag Measured (UTC) Tested by" in lines
    assert "Page 1 of 1" in lines
    # An acceptable specimen: no condition to report.
    assert "Condition at receipt" not in text
    assert "CORRECTED" not in text


def test_the_legend_explains_every_flag_and_the_instrument_flags_used(lab):
    lab.register("S-000932")
    lab.receive("S-000932")
    # The retest limit (1) reached: the second CLOT result stays for the reviewer.
    lab.analyse("S-000932", "7.2", flags=["CLOT"])
    lab.analyse("S-000932", "8.1", flags=["CLOT"])
    lab.verify("S-000932")
    lines = report_text("S-000932").splitlines()
    row = next(line for line in lines if line.startswith("GLU "))
    assert row.startswith(f"GLU 8.1 mmol/L 3.9{DASH}5.6 H CLOT ")
    legend = lines[lines.index("Flags") + 1 :][:7]
    assert legend == [
        "L: low: below the reference interval",
        "H: high: above the reference interval",
        "LL: critically low: below the critical limit",
        "HH: critically high: above the critical limit",
        "A: abnormal: an answer the assay marks abnormal",
        "No flag: within the reference interval (or a normal answer).",
        "CLOT: a clot was detected (instrument flag)",
    ]


def test_a_specimen_received_compromised_says_so_with_its_condition_corrections(lab):
    lab.register("S-000933")
    lab.receive("S-000933", "icteric")
    services.sample_amend_condition(
        user=lab.technician,
        barcode="S-000933",
        condition="haemolysed",
        reason="seen on recentrifugation",
    )
    lab.analyse("S-000933", "5.0")
    lab.verify("S-000933")
    text = " ".join(report_text("S-000933").split())
    assert (
        "Condition at receipt: Haemolysed (slight): received compromised; the results may be "
        "affected."
    ) in text
    assert (
        "from Icteric (slight) to Haemolysed (slight), by "
        f"{lab.technician.username}; reason: seen on recentrifugation"
    ) in text


def test_a_long_report_numbers_every_page_of_the_whole(lab, glucose):
    """Forty assays: the results run over several pages, each saying which of how many."""
    codes = [f"A{n:02d}" for n in range(40)]
    for code in codes:
        make_assay(code, name=f"Assay {code}")
    lab.register("S-000934", *codes)
    lab.receive("S-000934")
    sample = Sample.objects.get(barcode="S-000934")
    assays = {a.code: a for a in Assay.objects.filter(code__in=codes)}
    for code in codes:  # as a batch run would record them
        Result.objects.create(
            sample=sample,
            assay=assays[code],
            value="4.4",
            units="mmol/L",
            instrument=lab.instrument,
            measured_at=timezone.now() - timedelta(minutes=5),
            recorded_at=timezone.now(),
        )
    signature = Signature(  # unsaved: only rendered
        sample=sample,
        signer=lab.reviewer,
        printed_name="Rita Reviewer",
        meaning="reviewed and released",
        signed_at=timezone.now(),
        content=[],
        content_sha256="0" * 64,
    )
    pdf = render_report(sample, current_results(sample), signature, at=timezone.now())
    texts = pages(pdf)
    assert len(texts) >= 2
    for number, text in enumerate(texts, start=1):
        assert f"Page {number} of {len(texts)}" in text.splitlines()
        assert "report 1 of sample S-000934" in text
    every = "\n".join(texts)
    assert all(re.search(rf"^{code} 4.4 mmol/L", every, re.M) for code in codes)
