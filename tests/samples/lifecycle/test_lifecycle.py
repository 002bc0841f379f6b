"""The sample lifecycle and the batch run, end to end on the real services and tables, with the
workflows run in-process on a clock that moves between events as a real one does, each test in
both modes: every advance replayed from the table, and workflows kept in memory between
commits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from samples import services
from samples.errors import LabError
from samples.models import Batch, BatchStatus, Report, Result, Retest, Sample
from tests.modes import BOTH_MODES
from tests.samples.lab import Lab, make_assay
from workflows.api import get_run
from workflows.testing import WorkflowTestEnv


@pytest.fixture(params=BOTH_MODES)
def lab(request, technician, reviewer, instrument):
    with WorkflowTestEnv(moving_clock=True) as env:
        yield Lab(env, technician, reviewer, instrument)


def kinds(sample):
    return [event.kind for event in get_run(str(sample.run_id)).history]


def test_a_sample_goes_from_registration_to_a_signed_report(lab):
    sample = lab.register("S-000001")
    assert lab.state("S-000001") == "registered"
    assert lab.receive("S-000001").changed
    assert lab.state("S-000001") == "received"
    received = Sample.objects.get(barcode="S-000001")
    assert received.receipt_condition == "acceptable"
    assert received.received_by == lab.technician

    lab.to_batch("S-000001")
    assert lab.state("S-000001") == "awaiting_batch"
    lab.close_batches()
    assert lab.state("S-000001") == "in_batch"
    batch = lab.start_run()
    result = lab.post("S-000001", "7.2")
    assert lab.state("S-000001") == "resulted"
    result.refresh_from_db()
    assert result.interpretation == "H"

    signature = lab.verify("S-000001")
    assert lab.state("S-000001") == "reported"
    assert signature.meaning == "reviewed and released"
    assert signature.content[0]["value"] == "7.2000"
    report = Report.objects.get(sample=sample)
    assert bytes(report.pdf).startswith(b"%PDF")
    batch.refresh_from_db()
    assert batch.status == BatchStatus.COMPLETED
    info = get_run(str(sample.run_id))
    assert info.status == "completed" and info.result == "reported"
    reception = next(e for e in info.history if e.kind == "signal_received")
    assert reception.actor == "tess" and reception.reason == "received at reception"


def test_a_rejection_needs_a_reason_and_ends_the_lifecycle(lab):
    sample = lab.register("S-000002")
    with pytest.raises(LabError, match="needs a reason"):
        services.sample_reject(user=lab.technician, barcode="S-000002", reason="  ")
    assert "signal_received" not in kinds(sample)
    services.sample_reject(user=lab.technician, barcode="S-000002", reason="unlabelled tube")
    lab.env.run_until_idle()
    rejected = Sample.objects.get(barcode="S-000002")
    assert rejected.state == "rejected" and rejected.rejection_reason == "unlabelled tube"
    assert get_run(str(sample.run_id)).result == "rejected"


def test_a_sample_not_received_in_its_stability_window_expires(lab):
    sample = lab.register("S-000003", collected_hours_ago=20)
    lab.env.advance_time(timedelta(hours=3, minutes=59))
    assert lab.state("S-000003") == "registered"
    lab.env.advance_time(timedelta(minutes=2))
    assert lab.state("S-000003") == "expired"
    assert get_run(str(sample.run_id)).result == "expired"
    with pytest.raises(LabError, match="can no longer be received"):
        services.sample_receive(user=lab.technician, barcode="S-000003", condition="acceptable")


def test_a_received_sample_not_analysed_in_time_expires_too(lab):
    lab.register("S-000004", collected_hours_ago=1)
    lab.receive("S-000004")
    lab.env.advance_time(timedelta(hours=23, minutes=1))
    assert lab.state("S-000004") == "expired"


def test_a_batch_closes_as_soon_as_it_is_full_with_positions_in_joining_order(lab):
    for n in (1, 2, 3):
        lab.register(f"S-00001{n}")
        lab.receive(f"S-00001{n}")
        lab.to_batch(f"S-00001{n}")
    batch = Batch.objects.get()
    assert batch.status == BatchStatus.CLOSED  # capacity 3: no need to wait for its time
    assert [(m.sample.barcode, m.position) for m in batch.members.all()] == [
        ("S-000011", 1), ("S-000012", 2), ("S-000013", 3)
    ]  # fmt: skip
    assert {lab.state(f"S-00001{n}") for n in (1, 2, 3)} == {"in_batch"}
    lab.register("S-000014")
    lab.receive("S-000014")
    lab.to_batch("S-000014")
    assert Batch.objects.filter(status=BatchStatus.OPEN).count() == 1  # the next one opened


def test_a_batch_that_is_not_full_closes_at_its_closing_time(lab):
    lab.register("S-000021")
    lab.receive("S-000021")
    lab.to_batch("S-000021")
    lab.env.advance_time(timedelta(hours=1, minutes=59))
    assert Batch.objects.get().status == BatchStatus.OPEN
    lab.env.advance_time(timedelta(minutes=2))
    assert Batch.objects.get().status == BatchStatus.CLOSED


def test_a_qc_flag_sends_the_sample_back_and_every_result_is_kept_up_to_the_limit(lab):
    lab.register("S-000031")
    lab.receive("S-000031")
    lab.analyse("S-000031", "5.0", flags=["QC_FAIL"])
    assert lab.state("S-000031") == "retest_pending"
    first = Result.objects.get()
    assert Retest.objects.get(original=first).reason == "instrument flag QC_FAIL"

    lab.analyse("S-000031", "5.1", flags=["QC_FAIL"])  # max_retests is 1: no third round
    assert lab.state("S-000031") == "resulted"
    first.refresh_from_db()
    second = Result.objects.exclude(pk=first.pk).get()
    assert first.superseded_by == second and first.value == 5  # kept, never overwritten
    assert Retest.objects.get(original=first).new_result == second


def test_a_reviewer_sends_an_assay_back_for_a_retest_with_a_reason(lab):
    lab.register("S-000041")
    lab.receive("S-000041")
    lab.analyse("S-000041", "4.4")
    with pytest.raises(LabError, match="needs a reason"):
        services.sample_send_to_retest(
            user=lab.reviewer, barcode="S-000041", assay_code="GLU", reason=""
        )
    services.sample_send_to_retest(
        user=lab.reviewer, barcode="S-000041", assay_code="GLU", reason="delta check"
    )
    lab.env.run_until_idle()
    assert lab.state("S-000041") == "retest_pending"
    assert Retest.objects.get().requested_by == lab.reviewer
    lab.analyse("S-000041", "4.5")
    assert lab.state("S-000041") == "resulted"
    with pytest.raises(LabError, match="its limit"):
        services.sample_send_to_retest(
            user=lab.reviewer, barcode="S-000041", assay_code="GLU", reason="again"
        )
    lab.verify("S-000041")
    assert lab.state("S-000041") == "reported"


def test_whoever_started_the_batch_run_may_not_verify_its_results(lab, make_user):
    from samples.roles import Role

    both = make_user("bo", Role.TECHNICIAN, Role.REVIEWER)
    lab.register("S-000051")
    lab.receive("S-000051")
    lab.to_batch("S-000051")
    lab.close_batches()
    lab.start_run(user=both)
    lab.post("S-000051", "5.0")
    with pytest.raises(LabError, match="four eyes"):
        lab.verify("S-000051", user=both)
    assert lab.state("S-000051") == "resulted"
    lab.verify("S-000051")
    assert lab.state("S-000051") == "reported"


def test_whoever_corrected_a_result_may_not_verify_it(lab, make_user):
    from samples.roles import Role

    corrector = make_user("cora", Role.REVIEWER)
    lab.register("S-000056")
    lab.receive("S-000056")
    lab.analyse("S-000056", "5.0")
    result = Result.objects.get(sample__barcode="S-000056")
    services.result_amend(user=corrector, result_id=result.pk, value="5.1", reason="misread")
    with pytest.raises(LabError, match=r"corrected.*four eyes"):
        lab.verify("S-000056", user=corrector)
    assert lab.state("S-000056") == "resulted"
    lab.verify("S-000056")
    assert lab.state("S-000056") == "reported"


def test_a_wrong_password_applies_no_signature(lab):
    lab.register("S-000061")
    lab.receive("S-000061")
    lab.analyse("S-000061", "5.0")
    with pytest.raises(LabError, match="Wrong password"):
        lab.verify("S-000061", password="guess")
    assert lab.state("S-000061") == "resulted"
    assert not Sample.objects.get(barcode="S-000061").signatures.exists()


def test_out_of_order_actions_are_refused_and_change_nothing(lab):
    sample = lab.register("S-000071")
    before = kinds(sample)
    with pytest.raises(LabError, match="only a received sample"):
        services.sample_request_batch(user=lab.technician, barcode="S-000071")
    with pytest.raises(LabError, match="only a resulted sample can be verified"):
        services.sample_verify(user=lab.reviewer, barcode="S-000071", password="x")
    with pytest.raises(LabError, match="not waiting for a GLU result"):
        services.result_record(
            barcode="S-000071", assay_code="GLU", value="5", instrument=lab.instrument
        )
    assert kinds(sample) == before
    assert not Result.objects.exists()


def test_a_second_scan_at_reception_is_harmless(lab):
    sample = lab.register("S-000081")
    assert lab.receive("S-000081").changed
    again = lab.receive("S-000081")
    assert not again.changed and "already received" in again.message
    assert kinds(sample).count("signal_received") == 1


def test_an_unknown_barcode_is_named_in_the_refusal(lab):
    with pytest.raises(LabError, match="Unknown barcode S-999999"):
        services.sample_receive(user=lab.technician, barcode=" s-999999 ", condition="acceptable")


def test_only_a_technician_works_at_the_bench(lab):
    from samples.errors import NotAllowed

    lab.register("S-000091")
    with pytest.raises(NotAllowed):
        services.sample_receive(user=lab.reviewer, barcode="S-000091", condition="acceptable")
    with pytest.raises(NotAllowed):
        services.sample_register(
            user=lab.reviewer, barcode="S-000092", specimen_type="serum", subject_ref="X",
            collected_at=Sample.objects.get().collected_at, assays=["GLU"],
        )  # fmt: skip


def test_runs_started_before_version_2_finish_on_version_1_and_new_runs_take_version_2(lab):
    from workflows import registry

    version_2 = registry.get_workflow("sample_lifecycle", 2)
    version_3 = registry.get_workflow("sample_lifecycle", 3)
    version_4 = registry.get_workflow("sample_lifecycle", 4)
    registry.unregister_workflow("sample_lifecycle", 4)
    registry.unregister_workflow("sample_lifecycle", 3)  # the lab as it was before version 3
    registry.unregister_workflow("sample_lifecycle", 2)  # the lab before the change
    try:
        before = lab.register("S-000101")
        registry.register_workflow(version_2)  # the deploy that adds the critical-result step
        lab.env.restart_workers()
        after = lab.register("S-000102")
    finally:
        registry.register_workflow(version_2)
        registry.register_workflow(version_3)
        registry.register_workflow(version_4)  # the lab as it is now
        lab.env.restart_workers()
    for barcode in ("S-000101", "S-000102"):
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    lab.start_run()
    for barcode in ("S-000101", "S-000102"):
        lab.post(barcode, "30")  # above the critical limit of 25
        lab.verify(barcode)

    old_run, new_run = get_run(str(before.run_id)), get_run(str(after.run_id))
    assert (old_run.version, new_run.version) == (1, 2)
    assert old_run.status == new_run.status == "completed"
    scheduled = {
        run.version: [e.data["step"] for e in run.history if e.kind == "step_scheduled"]
        for run in (old_run, new_run)
    }
    assert "samples.review_critical" not in scheduled[1]
    assert "samples.review_critical" in scheduled[2]
    flagged = dict(Result.objects.values_list("sample__barcode", "critical_flagged_at"))
    assert flagged["S-000101"] is None and flagged["S-000102"] is not None


@pytest.mark.django_db(transaction=True)
def test_three_assays_with_retests_reach_a_report_with_a_worker_restart_before_every_advance(
    technician, reviewer, instrument
):
    make_assay("K", name="Potassium", reference_low="3.5", reference_high="5.1")
    make_assay("NA", name="Sodium", reference_low="135", reference_high="145",
               critical_low="120", critical_high="160")  # fmt: skip
    instrument.assays.set(instrument.assays.model.objects.all())
    # Every advance and step starts on a worker that kept nothing: each decision is a replay
    # of the history from the table, with times that moved between every event.
    with WorkflowTestEnv(moving_clock=True, restart_between_units=True) as env:
        lab = Lab(env, technician, reviewer, instrument)
        sample = lab.register("S-000301", "GLU", "K", "NA")
        lab.receive("S-000301")
        lab.to_batch("S-000301")
        lab.close_batches()
        assert lab.state("S-000301") == "in_batch"
        for code in ("GLU", "K", "NA"):
            lab.start_run(code)
        lab.post("S-000301", "5.0", "GLU")
        lab.post("S-000301", "4.1", "K", flags=["QC_FAIL"])  # the instrument asks for a rerun
        lab.post("S-000301", "140", "NA")
        assert lab.state("S-000301") == "retest_pending"

        lab.analyse("S-000301", "4.2", assay="K")
        assert lab.state("S-000301") == "resulted"

        services.sample_send_to_retest(
            user=reviewer, barcode="S-000301", assay_code="NA", reason="delta check"
        )
        env.run_until_idle()
        assert lab.state("S-000301") == "retest_pending"
        lab.analyse("S-000301", "141", assay="NA")
        assert lab.state("S-000301") == "resulted"

        lab.verify("S-000301")
        assert lab.state("S-000301") == "reported"
    run = get_run(str(sample.run_id))
    assert (run.status, run.result) == ("completed", "reported")
    assert Result.objects.filter(sample=sample).count() == 5  # every result kept
