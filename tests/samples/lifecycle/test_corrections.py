"""Re-release after a correction (``samples.lifecycle.corrections``): a result amended after
release sends the sample back to review; a second reviewer signs the corrected results (no one
who corrected one may); a corrected report, marked "Corrected" on every page and listing each
change, replaces the newest report, which stays stored and served; then the corrected results
go out. Amendments before the re-release join the open correction; one before release changes
nothing of the lifecycle. Every history these tests leave is replayed from the table, from the
top, afterwards (tests/conftest.py), and once more inside the main test."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from samples import services
from samples.errors import LabError
from samples.models import Report, Result, Sample, SampleState
from samples.roles import Role
from samples.selectors.audit import AuditFilter, audit_entries
from samples.selectors.review import review_queue
from samples.selectors.timeline import sample_timeline
from samples.selectors.words import describe
from samples.values.times import utc_text
from tests.cast import PASSWORD
from tests.pdf import pdf_text
from tests.replaying import assert_every_history_replays
from workflows.api import get_run


@pytest.fixture
def released(lab):
    """S-000811 released with 7.2 mmol/L (flag H): its original report is stored."""
    lab.register("S-000811")
    lab.receive("S-000811")
    lab.analyse("S-000811", "7.2")
    lab.verify("S-000811")
    assert lab.state("S-000811") == "reported"
    return Result.objects.get(sample__barcode="S-000811")


@pytest.fixture
def second_reviewer(make_user):
    return make_user("rosa", Role.REVIEWER)


def amend(lab, result, value: str, reason: str, user=None) -> None:
    services.result_amend(
        user=user or lab.technician, result_id=result.pk, value=value, reason=reason
    )
    lab.env.run_until_idle()


def test_an_amendment_after_release_goes_back_to_review_and_a_corrected_report_replaces(
    lab, released
):
    original = Report.objects.get(sample__barcode="S-000811")
    lifecycle_run = str(Sample.objects.get(barcode="S-000811").run_id)
    amend(lab, released, "5.1", "transcription error")

    sample = Sample.objects.get(barcode="S-000811")
    assert sample.state == SampleState.AMENDED
    assert sample.get_state_display() == "Corrected after release: awaiting review"
    correction = get_run(str(sample.run_id), history=False)
    assert correction.workflow == "sample_correction" and "review" in correction.waiting_for
    assert [item.sample.barcode for item in review_queue() if item.corrected] == ["S-000811"]
    assert Report.objects.filter(sample=sample).count() == 1  # nothing new before the review

    signature = lab.verify("S-000811")
    assert lab.state("S-000811") == "reported"
    first, second = Report.objects.filter(sample=sample).order_by("number")
    assert first == original and bytes(first.pdf) == bytes(original.pdf)  # never changed
    assert (second.number, second.kind, second.replaces, second.signature) == (
        2,
        "corrected",
        original,
        signature,
    )
    assert second.sha256 == hashlib.sha256(bytes(second.pdf)).hexdigest()
    text = pdf_text(bytes(second.pdf))
    joined = " ".join(text.split())
    assert "CORRECTED REPORT" in text.splitlines()
    assert f"This corrected report replaces report 1 of {utc_text(original.created_at)}" in joined
    assert original.sha256 in joined
    assert "What changed since report 1" in text
    assert (
        f"GLU corrected from 7.2 to 5.1 mmol/L, flag H → none, by {lab.technician.username}; "
        "reason: transcription error"
    ) in joined
    assert any(line.startswith("GLU 5.1 mmol/L") for line in text.splitlines())
    # The lifecycle finished for good; the correction run finished after sending.
    assert get_run(lifecycle_run, history=False).status == "completed"
    assert get_run(str(sample.run_id), history=False).status == "completed"
    words = [entry.what for entry in sample_timeline(sample)]
    assert "Corrected after release: back to review" in words
    assert "Corrected report 2 released, replaces report 1" in words
    trail = [describe(e)[0] for e in audit_entries(AuditFilter(sample="S-000811"))]
    assert f"Report of S-000811 stored (SHA-256 {original.sha256})" in trail
    assert f"Corrected report 2 of S-000811 stored (SHA-256 {second.sha256})" in trail
    assert "Sample S-000811 corrected after release by tess: back to review" in trail
    assert_every_history_replays()


def test_two_amendments_before_the_re_release_join_one_correction(lab, released):
    amend(lab, released, "5.1", "transcription error")
    run_id = Sample.objects.get(barcode="S-000811").run_id
    amend(lab, released, "5.3", "second look at the print-out")
    sample = Sample.objects.get(barcode="S-000811")
    assert sample.run_id == run_id and sample.state == SampleState.AMENDED
    lab.verify("S-000811")
    reports = list(Report.objects.filter(sample=sample).order_by("number"))
    assert [r.number for r in reports] == [1, 2]
    text = " ".join(pdf_text(bytes(reports[1].pdf)).split())
    assert "GLU corrected from 7.2 to 5.1 mmol/L, flag H → none" in text
    assert "GLU corrected from 5.1 to 5.3 mmol/L, flag none → none" in text

    # A later correction opens a new one, replacing the corrected report.
    amend(lab, released, "5.4", "a third reading")
    assert Sample.objects.get(barcode="S-000811").run_id != run_id
    lab.verify("S-000811")
    third = Report.objects.get(sample=sample, number=3)
    assert third.replaces == reports[1]
    text = " ".join(pdf_text(bytes(third.pdf)).split())
    assert "What changed since report 2" in text
    assert "GLU corrected from 5.3 to 5.4 mmol/L" in text
    assert "Earlier corrections" in text  # those report 2 already listed
    released.refresh_from_db()
    assert released.value == Decimal("5.4")


def test_whoever_amended_may_not_sign_the_correction(lab, released, second_reviewer):
    amend(lab, released, "5.1", "transcription error", user=lab.reviewer)
    amend(lab, released, "5.2", "and again", user=lab.technician)
    with pytest.raises(LabError, match="four eyes"):
        lab.verify("S-000811", user=lab.reviewer)  # amended first, then someone else did
    assert lab.state("S-000811") == SampleState.AMENDED
    assert Report.objects.filter(sample__barcode="S-000811").count() == 1
    lab.verify("S-000811", user=second_reviewer)
    assert lab.state("S-000811") == "reported"
    assert Report.objects.filter(sample__barcode="S-000811").count() == 2


def test_an_amendment_before_release_changes_nothing_of_the_lifecycle(lab, second_reviewer):
    other_reviewer = second_reviewer
    lab.register("S-000812")
    lab.receive("S-000812")
    lab.analyse("S-000812", "7.2")
    result = Result.objects.get(sample__barcode="S-000812")
    run_id = Sample.objects.get(barcode="S-000812").run_id
    amend(lab, result, "6.1", "transcription error", user=other_reviewer)
    sample = Sample.objects.get(barcode="S-000812")
    assert (sample.state, sample.run_id) == ("resulted", run_id)
    with pytest.raises(LabError, match="four eyes"):
        lab.verify("S-000812", user=other_reviewer)  # corrected it before release
    lab.verify("S-000812")
    report = Report.objects.get(sample=sample)
    assert (report.number, report.kind, report.replaces) == (1, "original", None)
    assert "CORRECTED" not in pdf_text(bytes(report.pdf))
    assert get_run(str(run_id), history=False).workflow == "sample_lifecycle"


def test_a_result_is_not_corrected_while_its_release_is_under_way(lab):
    """Between the signature and the storing of its report, the release finishes first."""
    lab.register("S-000813")
    lab.receive("S-000813")
    lab.analyse("S-000813", "7.2")
    services.sample_verify(user=lab.reviewer, barcode="S-000813", password=PASSWORD)
    result = Result.objects.get(sample__barcode="S-000813")
    with pytest.raises(LabError, match="its report is not stored yet"):
        services.result_amend(user=lab.technician, result_id=result.pk, value="6", reason="x")
    result.refresh_from_db()
    assert result.value == Decimal("7.2")
    lab.env.run_until_idle()
    amend(lab, result, "6.0", "now it can")
    assert lab.state("S-000813") == SampleState.AMENDED
