"""``batch_run`` version 3: once a run's patient results are in, a control result still missing
after ``QC_CONTROL_REMINDER_MINUTES`` has the supervisors emailed the missing lots (again each
further period) while the run goes on waiting, and QC concludes as in version 2 when the result
comes; a batch opened on version 2 finishes on version 2. Each test runs in both modes (every
advance replayed from the table, and workflows kept in memory between commits) and ends with
every recorded history replayed from scratch (tests/replaying.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from samples import services
from samples.models import Batch, BatchStatus, QcStatus
from samples.roles import Role
from samples.selectors.waits import run_words
from tests.modes import BOTH_MODES
from tests.replaying import assert_every_history_replays
from tests.samples.lab import Lab
from tests.samples.quality import control_post, make_lot, said, start_run_on_instrument, steps_done
from workflows.api import get_run
from workflows.testing import WorkflowTestEnv


@pytest.fixture(params=BOTH_MODES)
def lab(request, technician, reviewer, instrument):
    with WorkflowTestEnv(moving_clock=True) as env:
        yield Lab(env, technician, reviewer, instrument)


@pytest.fixture
def supervisor(make_user):
    return make_user("kim", Role.REVIEWER, first_name="Dr", last_name="Kim", email="kim@lab.test")


@pytest.fixture
def every_30_minutes(settings):
    settings.QC_CONTROL_REMINDER_MINUTES = 30


def running_with_two_controls(lab, barcode: str = "S-000611") -> Batch:
    """``barcode`` in a GLU run started on the lab's instrument with controls QC-GLU-1 and
    QC-GLU-2 in their positions."""
    make_lot(lab.instrument, "QC-GLU-1", level="1")
    make_lot(lab.instrument, "QC-GLU-2", level="2")
    lab.register(barcode)
    lab.receive(barcode)
    lab.to_batch(barcode)
    lab.close_batches()
    return start_run_on_instrument(lab)


def test_a_control_without_a_result_reminds_the_supervisors_each_period_until_it_comes(
    lab, supervisor, make_user, every_30_minutes
):
    make_user("nomail", Role.REVIEWER)  # a supervisor without an email is not mailed
    make_user("gone", Role.REVIEWER, email="gone@lab.test", is_active=False)
    batch = running_with_two_controls(lab)
    assert get_run(str(batch.run_id)).version == 3
    lab.post("S-000611", "5.0")
    control_post(lab, batch, "QC-GLU-1", "5.1")

    lab.env.advance_time(timedelta(minutes=29))
    assert mail.outbox == []  # the period from the patient results is not over
    lab.env.advance_time(timedelta(minutes=2))
    assert [m.to for m in mail.outbox] == [["kim@lab.test"]]
    reminder = mail.outbox[0]
    assert f"GLU batch {batch.pk} waits for control results (QC-GLU-2)" in reminder.subject
    assert f"GLU batch {batch.pk}, run {batch.run_id} on Cobas-1" in reminder.body
    assert "control QC-GLU-2 has no result yet" in reminder.body
    assert "QC-GLU-1" not in reminder.body  # its result is in
    assert "on the batch board (/batches/)" in reminder.body
    assert f"on its QC page (/batches/{batch.pk}/qc/)" in reminder.body
    assert steps_done(batch).count("samples.qc_control_remind") == 1
    assert (
        f"GLU batch {batch.pk}: control result missing (QC-GLU-2): reminder sent to the "
        "supervisors (kim)"
    ) in said(batch)
    batch.refresh_from_db()
    assert (batch.qc_status, batch.status) == (QcStatus.PENDING, BatchStatus.RUNNING)
    run = get_run(str(batch.run_id))
    assert run.status == "waiting"
    assert run_words(run).startswith(
        "waiting for the GLU run's control results (next reminder to the supervisors "
    )

    lab.env.advance_time(timedelta(minutes=31))
    assert [m.to for m in mail.outbox] == [["kim@lab.test"]] * 2
    assert "QC-GLU-2" in mail.outbox[1].subject
    assert steps_done(batch).count("samples.qc_control_remind") == 2

    control_post(lab, batch, "QC-GLU-2", "5.0")
    batch.refresh_from_db()
    assert (batch.qc_status, batch.status) == (QcStatus.ACCEPTED, BatchStatus.COMPLETED)
    run = get_run(str(batch.run_id))
    assert (run.status, run.result) == ("completed", "1 sample(s), QC accepted")
    lab.env.advance_time(timedelta(hours=2))
    assert len(mail.outbox) == 2  # the result came: no more reminders
    lab.verify("S-000611")
    assert lab.state("S-000611") == "reported"


def test_every_missing_control_is_named_in_one_reminder(lab, supervisor, every_30_minutes):
    batch = running_with_two_controls(lab)
    lab.post("S-000611", "5.0")
    lab.env.advance_time(timedelta(minutes=31))
    assert len(mail.outbox) == 1
    assert "(QC-GLU-1, QC-GLU-2)" in mail.outbox[0].subject
    assert "controls QC-GLU-1, QC-GLU-2 have no result yet" in mail.outbox[0].body
    control_post(lab, batch, "QC-GLU-2", "5.0")  # the second control first
    lab.env.advance_time(timedelta(minutes=31))
    assert len(mail.outbox) == 2
    assert "(QC-GLU-1)" in mail.outbox[1].subject
    control_post(lab, batch, "QC-GLU-1", "5.0")
    assert get_run(str(batch.run_id)).result == "1 sample(s), QC accepted"


def test_controls_in_within_the_period_send_no_reminder_however_late_the_patient_results(
    lab, supervisor, every_30_minutes
):
    batch = running_with_two_controls(lab)
    control_post(lab, batch, "QC-GLU-1", "5.1")
    lab.env.advance_time(timedelta(hours=2))  # waiting for the patient results: no reminder
    lab.post("S-000611", "5.0")
    lab.env.advance_time(timedelta(minutes=20))
    control_post(lab, batch, "QC-GLU-2", "5.0")
    lab.env.advance_time(timedelta(hours=2))

    assert mail.outbox == []
    assert "samples.qc_control_remind" not in steps_done(batch)
    run = get_run(str(batch.run_id))
    assert (run.version, run.status, run.result) == (3, "completed", "1 sample(s), QC accepted")


def test_no_reminder_is_sent_once_the_controls_are_in(lab, supervisor):
    batch = running_with_two_controls(lab)
    control_post(lab, batch, "QC-GLU-1", "5.1")
    control_post(lab, batch, "QC-GLU-2", "5.0")
    done = services.qc_control_remind(batch_id=batch.pk)
    assert done == {
        "missing": [],
        "sent_to": [],
        "summary": "no reminder: the run's control results are in",
    }
    assert mail.outbox == []


def test_a_batch_opened_on_version_2_finishes_on_version_2_without_reminders(
    lab, supervisor, every_30_minutes
):
    from workflows import registry

    version_3 = registry.get_workflow("batch_run", 3)
    registry.unregister_workflow("batch_run", 3)  # the lab before the control reminders came
    try:
        lab.register("S-000621")
        lab.receive("S-000621")
        lab.to_batch("S-000621")  # its batch opens on version 2
    finally:
        registry.register_workflow(version_3)
        lab.env.restart_workers()
    make_lot(lab.instrument)
    lab.close_batches()
    batch = start_run_on_instrument(lab)
    assert batch.qc_status == QcStatus.PENDING
    lab.post("S-000621", "5.0")
    lab.env.advance_time(timedelta(hours=3))
    assert mail.outbox == []
    assert get_run(str(batch.run_id)).status == "waiting"

    control_post(lab, batch, "QC-GLU-1", "5.0")
    run = get_run(str(batch.run_id))
    assert (run.version, run.status, run.result) == (2, "completed", "1 sample(s), QC accepted")
    assert steps_done(batch) == [
        "samples.batch_plan",
        "samples.batch_close",
        "samples.qc_controls",
        "samples.qc_conclude",
        "samples.batch_complete",
    ]
    assert_every_history_replays()
