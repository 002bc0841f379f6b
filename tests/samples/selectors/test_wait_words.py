"""The lab's words for what a workflow run waits for: every wait the lab's workflows know, the
deadlines in UTC, the names looked up for a whole list at once, and a fallback in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from samples.selectors.waits import BLOCKED, Known, wait_words, waits_words
from workflows.api import Wait

DEADLINE = datetime(2026, 12, 2, 20, 42, tzinfo=UTC)
KNOWN = Known(result_assays={42: "GLU"}, destinations={7: "Ward LIS"})


def signal(name: str, until: datetime | None = None) -> Wait:
    return Wait("signal", name, until)


def step(name: str, *args) -> Wait:
    return Wait("step", name, None, tuple(args))


@pytest.mark.parametrize(
    ("wait", "words"),
    [
        (signal("reception", DEADLINE),
         "waiting for receipt at reception (window ends 02 Dec 2026 20:42 UTC)"),
        (signal("batch", DEADLINE),
         "waiting to be added to a batch (window ends 02 Dec 2026 20:42 UTC)"),
        (signal("batched:GLU"), "waiting for the GLU batch to close"),
        (signal("result:GLU"), "waiting for the GLU result"),
        (signal("review"), "waiting for verification by a reviewer"),
        (signal("critical:42"), "waiting for the critical GLU value to be notified"),
        (signal("critical:43"), "waiting for the critical value to be notified"),  # not read
        (signal("call", datetime(2026, 12, 2, 14, 30, tzinfo=UTC)),
         "waiting for a call to be recorded (SLA ends 02 Dec 2026 14:30 UTC)"),
        (signal("control:GLU"), "waiting for the GLU run's control results"),
        (signal("controls"), "waiting for the run's control results"),
        (signal("qc_decision"), "waiting for a supervisor's decision on the rejected run"),
        (signal("full"), "waiting for the batch to fill or reach its closing time"),
        (signal("run_started"), "waiting for the run to start on an instrument"),
        (signal("member_done"), "waiting for the run's results"),
        (Wait("timer", "", DEADLINE), "waiting until 02 Dec 2026 20:42 UTC"),
        (step("samples.lifecycle_plan", "S-1"), "setting up the sample's lifecycle"),
        (step("samples.record_receipt", "S-1", {}), "recording the receipt"),
        (step("samples.record_rejection", "S-1", {}), "recording the rejection"),
        (step("samples.mark", "S-1", "awaiting_batch"), "recording the sample as awaiting batch"),
        (step("samples.mark", "S-1", "lost"), "recording the sample's new state"),
        (step("samples.join_batch", "S-1", "GLU"), "adding the sample to the GLU batch"),
        (step("samples.evaluate_result", 42), "checking the result"),
        (step("samples.open_retest", 42, "haemolysed", None), "opening a retest"),
        (step("samples.review_critical", "S-1", 42),
         "flagging the critical result for the reviewer"),
        (step("samples.render_report", "S-1", 3), "writing the report"),
        (step("samples.outbox_prepare", "S-1", "original"), "preparing the result messages"),
        (step("samples.outbox_send", 7), "sending results to Ward LIS"),
        (step("samples.outbox_send", 8), "sending results out"),  # not read
        (step("samples.outbox_park", 7, "timeout"), "setting a result message aside for a person"),
        (step("samples.batch_plan", 5), "setting up the batch"),
        (step("samples.batch_close", 5), "closing the batch"),
        (step("samples.batch_complete", 5), "completing the batch"),
        (step("samples.qc_control_plan", 5), "reading the run's control positions"),
        (step("samples.qc_conclude", 5), "evaluating the run's quality control"),
        (step("samples.qc_control_remind", 5),
         "reminding the supervisors of missing control results"),
        (step("samples.notification_escalate", 3, 1, 0.0),
         "telling the supervisors no call was recorded in time"),
        (step("samples.notification_close", 3, 9, False),
         "closing the critical value's notification"),
        (step("jobs.plan", 1), "planning the job"),
        (step("jobs.part", 1, 0), "doing part 1 of the job"),
        (step("jobs.finish", 1), "finishing the job"),
        (step("jobs.fail", 1, "boom"), "recording why the job failed"),
    ],
)  # fmt: skip
def test_every_wait_the_lab_knows_reads_as_lab_words(wait, words):
    assert wait_words(wait, known=KNOWN) == words


def test_a_batch_runs_waits_name_its_assay():
    for wait, words in [
        (signal("full"), "waiting for the GLU batch to fill or reach its closing time"),
        (signal("controls"), "waiting for the GLU run's control results"),
        (signal("control:2"), "waiting for the GLU run's control results"),
        (signal("control:QC-GLU-1"), "waiting for the GLU run's control results"),  # a lot
        (signal("qc_decision"), "waiting for a supervisor's decision on the rejected GLU run"),
        (step("samples.batch_close", 5), "closing the GLU batch"),
    ]:
        assert wait_words(wait, workflow="batch_run", assay="GLU") == words


def test_a_signal_two_workflows_share_reads_as_its_own_workflow_says():
    review = signal("review")
    assert (
        wait_words(review, workflow="sample_lifecycle") == "waiting for verification by a reviewer"
    )
    assert (
        wait_words(review, workflow="result_correction") == "waiting for review of the correction"
    )


@pytest.mark.parametrize(
    ("wait", "words"),
    [
        (signal("courier_pickup"), "waiting for courier pickup"),
        (signal("sign_off:GLU", DEADLINE), "waiting for sign off GLU (by 02 Dec 2026 20:42 UTC)"),
        (step("samples.print_labels", "S-1"), "print labels in progress"),
        (step("archive"), "archive in progress"),
        (Wait("timer"), "waiting for a timer"),
    ],
)
def test_a_name_the_table_does_not_know_still_reads_as_words(wait, words):
    said = wait_words(wait)
    assert said == words
    assert "'" not in said and "signal" not in said and "step" not in said


@dataclass(frozen=True)
class Run:
    id: str
    workflow: str
    status: str
    waits: tuple[Wait, ...]


def test_a_runs_waits_are_joined_and_a_blocked_run_says_it_needs_a_person(db):
    runs = [
        Run("a", "sample_lifecycle", "waiting", (signal("result:GLU"), signal("result:NA"))),
        Run("b", "sample_lifecycle", "blocked", (signal("review"),)),
        Run("c", "sample_lifecycle", "completed", ()),
    ]
    assert waits_words(runs) == {
        "a": "waiting for the GLU result and waiting for the NA result",
        "b": BLOCKED,
        "c": "",
    }


def test_every_step_of_the_labs_workflows_has_its_words():
    """A step added to a workflow is said in the lab's words while it runs, not by its name."""
    import samples.lifecycle  # noqa: F401 (registers the lab's workflows and steps)
    from samples.selectors.waits import STEPS
    from workflows.registry import step_names

    lab_steps = [name for name in step_names() if name.split(".")[0] in ("samples", "jobs")]
    assert lab_steps and [name for name in lab_steps if name not in STEPS] == []
