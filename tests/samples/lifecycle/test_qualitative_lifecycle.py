"""A sample with a qualitative assay goes from its result to its release like any other, in
both modes of the engine (each history replayed at the end, as every test's is): an abnormal
answer is flagged "A" for the reviewer and is never critical; only an instrument's flag sends
it back for a retest, never its answer."""

from __future__ import annotations

import pytest

from samples.models import Report, Result, Retest
from samples.selectors.signatures import signed_content
from tests.modes import BOTH_MODES
from tests.pdf import pdf_text
from tests.samples.lab import Lab
from tests.samples.qualitative import make_qualitative, running
from workflows.api import get_run
from workflows.testing import WorkflowTestEnv


@pytest.fixture(params=BOTH_MODES)
def lab(request, technician, reviewer, instrument):
    make_qualitative()
    with WorkflowTestEnv(moving_clock=True) as env:
        yield Lab(env, technician, reviewer, instrument)


def test_an_abnormal_answer_is_flagged_signed_and_released_with_its_report(lab):
    running(lab, "S-000201")
    result = lab.post("S-000201", "positive", assay="HIV")
    assert lab.state("S-000201") == "resulted"
    result.refresh_from_db()
    assert (result.text, result.interpretation, result.critical_flagged_at) == (
        "Positive",
        "A",
        None,
    )

    signature = lab.verify("S-000201")
    assert lab.state("S-000201") == "reported"
    assert signature.content == [
        {
            "result": result.pk, "assay": "HIV", "answer": "Positive", "units": "",
            "interpretation": "A", "flags": [],
        }
    ]  # fmt: skip
    assert signed_content(result.sample) == signature.content
    report = pdf_text(bytes(Report.objects.get(sample=result.sample).pdf))
    assert "HIV" in report and "Positive" in report
    assert get_run(str(result.sample.run_id)).result == "reported"


def test_a_normal_answer_has_no_flag(lab):
    running(lab, "S-000202")
    result = lab.post("S-000202", "NEGATIVE", assay="HIV")
    result.refresh_from_db()
    assert (result.text, result.interpretation) == ("Negative", "")
    lab.verify("S-000202")
    assert lab.state("S-000202") == "reported"


def test_an_instrument_flag_sends_an_answer_for_a_retest_and_the_new_answer_supersedes_it(lab):
    running(lab, "S-000203")
    lab.post("S-000203", "Indeterminate", assay="HIV", flags=["CLOT"])
    original = Result.objects.get(sample__barcode="S-000203")
    assert Retest.objects.filter(original=original).exists()
    assert lab.state("S-000203") == "retest_pending"
    lab.analyse("S-000203", "negative", assay="HIV")
    original.refresh_from_db()
    assert original.superseded_by is not None and original.superseded_by.text == "Negative"
    assert lab.state("S-000203") == "resulted"
