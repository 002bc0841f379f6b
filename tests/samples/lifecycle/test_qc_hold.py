"""``batch_run`` from version 2 on (a batch opened now runs on version 3, which adds reminders
of a missing control result: test_qc_control_reminder.py): a run waits for its members' results
and its controls', concludes QC, and a run rejected by QC holds its patient results until a
supervisor decides, reminding the supervisors meanwhile; a run with no controls, and a run on
version 1, go on as before. Each test runs in both modes (every advance replayed from the
table, and workflows kept in memory between commits) and ends with every recorded history
replayed from scratch (tests/replaying.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from samples import services
from samples.errors import LabError
from samples.models import (
    BatchStatus,
    QcDecision,
    QcStatus,
    QcVerdict,
    Result,
    Retest,
)
from samples.roles import Role
from samples.selectors.timeline import sample_timeline
from tests.cast import PASSWORD
from tests.modes import BOTH_MODES
from tests.replaying import assert_every_history_replays
from tests.samples.lab import Lab
from tests.samples.quality import (
    control_post,
    held_run,
    make_lot,
    said,
    start_run_on_instrument,
    steps_done,
)
from workflows.api import get_run
from workflows.testing import WorkflowTestEnv


@pytest.fixture(params=BOTH_MODES)
def lab(request, technician, reviewer, instrument):
    with WorkflowTestEnv(moving_clock=True) as env:
        yield Lab(env, technician, reviewer, instrument)


@pytest.fixture
def supervisor(make_user):
    return make_user("kim", Role.REVIEWER, first_name="Dr", last_name="Kim", email="kim@lab.test")


def test_a_run_whose_controls_are_in_control_or_only_warned_is_accepted(lab):
    make_lot(lab.instrument, "QC-GLU-1", level="1")
    make_lot(lab.instrument, "QC-GLU-2", level="2")
    lab.register("S-000601")
    lab.receive("S-000601")
    lab.to_batch("S-000601")
    lab.close_batches()
    batch = start_run_on_instrument(lab)
    assert get_run(str(batch.run_id)).version == 3
    assert batch.qc_status == QcStatus.PENDING
    lab.post("S-000601", "5.0")
    with pytest.raises(LabError, match="waits for its control results"):
        lab.verify("S-000601")  # QC pending: held

    control_post(lab, batch, "QC-GLU-1", "5.1")
    assert get_run(str(batch.run_id)).status == "waiting"  # the second control is not in
    control_post(lab, batch, "QC-GLU-2", "5.45", QcVerdict.WARNING, ["1-2s"])

    batch.refresh_from_db()
    assert batch.qc_status == QcStatus.ACCEPTED
    assert batch.status == BatchStatus.COMPLETED
    run = get_run(str(batch.run_id))
    assert run.status == "completed"
    assert run.result == "1 sample(s), QC accepted"
    accepted = "QC of the GLU run accepted, with warnings: 1-2s on QC-GLU-2"
    assert f"GLU batch {batch.pk}: {accepted}" in said(batch)
    lab.verify("S-000601")
    assert lab.state("S-000601") == "reported"


def test_a_rejected_run_holds_then_a_rerun_retests_every_member_keeping_every_result(
    lab, supervisor
):
    batch = held_run(lab, ("S-000701", "S-000702"))
    assert batch.qc_status == QcStatus.REJECTED
    assert batch.status == BatchStatus.RUNNING
    assert get_run(str(batch.run_id)).status == "waiting"
    assert f"GLU batch {batch.pk}: QC of the GLU run rejected: 2-2s on QC-GLU-1" in said(batch)
    with pytest.raises(LabError, match=r"is held by QC \(2-2s on QC-GLU-1\): a supervisor"):
        lab.verify("S-000701")
    assert_every_history_replays()  # the held run, from scratch

    first = {r.sample.barcode: r.pk for r in Result.objects.select_related("sample")}
    services.qc_decide(
        user=supervisor, batch_id=batch.pk, decision="rerun", reason="control vial left open"
    )
    lab.env.run_until_idle()

    batch.refresh_from_db()
    assert (batch.qc_status, batch.status) == (QcStatus.RERUN, BatchStatus.COMPLETED)
    run = get_run(str(batch.run_id))
    assert (run.status, run.result) == ("completed", "2 sample(s), QC rejected, rerun")
    assert f"Batch {batch.pk} run again by Dr Kim: control vial left open" in said(batch)
    # Every member went back for a retest and into the open batch, by itself.
    assert {lab.state(b) for b in first} == {"awaiting_batch"}
    assert set(Retest.objects.values_list("original_id", flat=True)) == set(first.values())
    timeline = [e.what for e in sample_timeline(batch.members.first().sample)]
    assert "GLU sent back for a retest" in timeline

    lab.close_batches()
    again = start_run_on_instrument(lab)
    assert again.pk != batch.pk and again.qc_status == QcStatus.PENDING
    for barcode in first:
        lab.post(barcode, "5.2")
    control_post(lab, again, "QC-GLU-1", "5.0")
    for barcode, old in first.items():
        kept = Result.objects.get(pk=old)
        new = Result.objects.get(sample__barcode=barcode, batch=again)
        assert kept.superseded_by_id == new.pk  # the first result stays, superseded
        lab.verify(barcode)
        assert lab.state(barcode) == "reported"


def test_a_rejected_run_accepted_with_a_signature_lifts_the_hold(lab, supervisor):
    batch = held_run(lab)
    decision = services.qc_decide(
        user=supervisor,
        batch_id=batch.pk,
        decision="accept",
        reason="patient results consistent with the previous run",
        password=PASSWORD,
    )
    lab.env.run_until_idle()

    assert decision.printed_name == "Dr Kim" and decision.meaning == "accepted despite QC"
    assert decision.content["rejected"][0]["rules"] == ["1-2s", "2-2s"]
    assert decision.content["decision"] == "accept"
    assert decision.content_sha256 == services.qc_decisions.content_sha256(decision.content)
    batch.refresh_from_db()
    assert (batch.qc_status, batch.status) == (QcStatus.ACCEPTED_BY_DECISION, "completed")
    assert get_run(str(batch.run_id)).result == "1 sample(s), QC rejected, accept"
    assert (
        f"Run of GLU batch {batch.pk} accepted by Dr Kim despite QC: patient results "
        "consistent with the previous run"
    ) in said(batch)
    lab.verify("S-000701")
    assert lab.state("S-000701") == "reported"
    assert Retest.objects.count() == 0


def test_the_supervisors_are_reminded_each_time_the_timer_fires_and_the_run_still_waits(
    lab, supervisor, make_user, settings
):
    settings.QC_DECISION_REMINDER_MINUTES = 30
    make_user("nomail", Role.REVIEWER)  # a supervisor without an email is not mailed
    make_user("gone", Role.REVIEWER, email="gone@lab.test", is_active=False)
    batch = held_run(lab)
    assert mail.outbox == []

    lab.env.advance_time(timedelta(minutes=31))
    assert [m.to for m in mail.outbox] == [["kim@lab.test"]]
    assert f"GLU batch {batch.pk} waits for your QC decision" in mail.outbox[0].subject
    assert "2-2s on QC-GLU-1" in mail.outbox[0].body
    assert steps_done(batch).count("samples.qc_remind") == 1
    assert f"GLU batch {batch.pk}: reminder sent to the supervisors (kim)" in said(batch)
    assert get_run(str(batch.run_id)).status == "waiting"

    lab.env.advance_time(timedelta(minutes=31))
    assert len(mail.outbox) == 2
    assert steps_done(batch).count("samples.qc_remind") == 2
    services.qc_decide(user=supervisor, batch_id=batch.pk, decision="rerun", reason="new vial")
    lab.env.run_until_idle()
    lab.env.advance_time(timedelta(hours=2))
    assert len(mail.outbox) == 2  # decided: no more reminders
    assert get_run(str(batch.run_id)).status == "completed"


def test_a_run_with_no_controls_goes_on_as_version_1(lab):
    lab.register("S-000801")
    lab.receive("S-000801")
    lab.to_batch("S-000801")
    lab.close_batches()
    batch = lab.start_run()
    lab.post("S-000801", "5.0")
    batch.refresh_from_db()
    run = get_run(str(batch.run_id))
    assert (run.version, run.status, run.result) == (3, "completed", "1 sample(s)")
    assert batch.qc_status == QcStatus.NOT_REQUIRED
    assert "samples.qc_conclude" not in steps_done(batch)
    lab.verify("S-000801")
    assert lab.state("S-000801") == "reported"


def test_a_run_on_version_1_finishes_as_before_even_with_control_lots_set_up(lab):
    from workflows import registry

    later = [registry.get_workflow("batch_run", version) for version in (2, 3)]
    for version in (2, 3):
        registry.unregister_workflow("batch_run", version)  # the lab before quality control came
    try:
        lab.register("S-000901")
        lab.receive("S-000901")
        lab.to_batch("S-000901")  # its batch opens on version 1
    finally:
        for definition in later:
            registry.register_workflow(definition)
        lab.env.restart_workers()
    make_lot(lab.instrument)
    lab.close_batches()
    batch = start_run_on_instrument(lab)
    assert batch.qc_status == QcStatus.NOT_REQUIRED and not batch.controls.exists()
    lab.post("S-000901", "5.0")
    run = get_run(str(batch.run_id))
    assert (run.version, run.status, run.result) == (1, "completed", "1 sample(s)")
    assert steps_done(batch) == [
        "samples.batch_plan",
        "samples.batch_close",
        "samples.batch_complete",
    ]
    lab.verify("S-000901")
    assert QcDecision.objects.count() == 0
