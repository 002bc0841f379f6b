"""Critical values (lifecycle version 4): a result beyond its assay's critical limits opens a
notification kept by its own workflow; a call that reaches the person responsible closes it
and release goes on; past the SLA the supervisors are emailed and release still waits. Each
test in both engine modes; every history recorded is replayed from scratch after each test
(tests/conftest.py), and once more here inside the tests that change the loaded versions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from samples import services
from samples.errors import LabError
from samples.models import CriticalCall, CriticalNotification, Report, Result
from samples.selectors.audit import AuditFilter, audit_entries
from samples.selectors.critical import critical_counts, critical_timeline
from tests.modes import BOTH_MODES
from tests.replaying import assert_every_history_replays
from tests.samples.lab import Lab
from workflows.api import get_run, start
from workflows.testing import WorkflowTestEnv


@pytest.fixture(params=BOTH_MODES)
def lab(request, technician, reviewer, instrument, settings):
    settings.CRITICAL_CALL_SLA_MINUTES = 30
    reviewer.email = "ravi@lab.example"
    reviewer.save()
    with WorkflowTestEnv(moving_clock=True) as env:
        yield Lab(env, technician, reviewer, instrument)


def critical_sample(lab, barcode: str, value: str = "1.8") -> Result:
    lab.register(barcode)
    lab.receive(barcode)
    lab.analyse(barcode, value)
    return Result.objects.get(sample__barcode=barcode, superseded_by=None)


def call(lab, barcode: str, outcome: str = "confirmed", read_back: str | None = "1.8", **more):
    recorded = services.critical_call_record(
        user=more.pop("user", lab.technician),
        barcode=barcode,
        called_name=more.pop("called_name", "Dr Ruiz"),
        called_where=more.pop("called_where", "ward 5"),
        read_back=read_back,
        outcome=outcome,
        **more,
    )
    lab.env.run_until_idle()
    return recorded


def signals(run_id) -> list[str]:
    return [e.data["name"] for e in get_run(str(run_id)).history if e.kind == "signal_received"]


def test_a_critical_value_called_in_time_closes_and_release_proceeds(lab, mailoutbox):
    result = critical_sample(lab, "S-000701")
    assert result.interpretation == "LL"
    notification = CriticalNotification.objects.get(result=result)
    assert notification.is_open and notification.sample.barcode == "S-000701"
    assert notification.due_at - notification.opened_at == timedelta(minutes=30)
    run = get_run(str(notification.run_id))
    assert (run.workflow, run.status) == ("critical_notification", "waiting")
    assert run.waiting_for.startswith("signal 'call' until ")
    assert lab.state("S-000701") == "resulted"

    with pytest.raises(LabError, match=r"GLU 1.8 mmol/L \(LL\) is not yet notified"):
        lab.verify("S-000701")  # release waits for the call

    lab.env.advance_time(timedelta(minutes=10))
    recorded = call(lab, "S-000701")
    assert (recorded.outcome, recorded.read_back, recorded.recorded_by) == (
        "confirmed", result.value, lab.technician
    )  # fmt: skip
    notification.refresh_from_db()
    assert notification.closed_at == recorded.called_at and notification.outcome == "in_time"
    assert notification.escalated_at is None and mailoutbox == []
    assert (
        get_run(str(notification.run_id)).result == "notification closed (notified within the SLA)"
    )
    assert f"critical:{result.pk}" in signals(notification.sample.run_id)

    lab.verify("S-000701")
    assert lab.state("S-000701") == "reported"
    assert Report.objects.filter(sample__barcode="S-000701").exists()
    assert get_run(str(notification.sample.run_id)).version == 4


def test_past_the_sla_the_supervisors_are_emailed_and_release_still_waits(lab, mailoutbox):
    result = critical_sample(lab, "S-000702")
    notification = CriticalNotification.objects.get(result=result)
    lab.env.advance_time(timedelta(minutes=29))
    assert mailoutbox == []
    lab.env.advance_time(timedelta(minutes=2))  # the SLA's timer fires

    notification.refresh_from_db()
    assert notification.escalated_at is not None and notification.escalations == 1
    assert notification.is_open
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ravi@lab.example"]
    assert "S-000702" in mail.subject and "GLU 1.8 mmol/L (LL)" in mail.subject
    assert "SLA is 30 min" in mail.body
    with pytest.raises(LabError, match="not yet notified"):
        lab.verify("S-000702")
    assert lab.state("S-000702") == "resulted"

    lab.env.advance_time(timedelta(minutes=30))  # a reminder after another period
    notification.refresh_from_db()
    assert notification.escalations == 2 and len(mailoutbox) == 2

    call(lab, "S-000702")
    notification.refresh_from_db()
    assert not notification.is_open and notification.outcome == "late"
    lab.verify("S-000702")
    assert lab.state("S-000702") == "reported"
    lab.env.advance_time(timedelta(hours=2))
    assert len(mailoutbox) == 2  # no reminder once closed


def test_unable_to_reach_is_recorded_and_the_notification_stays_open(lab):
    result = critical_sample(lab, "S-000703", value="30")  # above the critical limit of 25
    assert result.interpretation == "HH"
    call(lab, "S-000703", "unable_to_reach", read_back=None, called_name="Dr Okafor")
    notification = CriticalNotification.objects.get(result=result)
    assert notification.is_open and notification.calls.get().outcome == "unable_to_reach"
    with pytest.raises(LabError, match=r"GLU 30 mmol/L \(HH\) is not yet notified"):
        lab.verify("S-000703")

    call(lab, "S-000703", "reached_without_read_back", read_back=None)
    notification.refresh_from_db()
    assert not notification.is_open and notification.outcome == "in_time"
    assert list(notification.calls.values_list("outcome", flat=True)) == [
        "unable_to_reach", "reached_without_read_back"
    ]  # fmt: skip
    with pytest.raises(LabError, match="already notified"):
        call(lab, "S-000703", read_back="30")
    assert notification.calls.count() == 2
    lab.verify("S-000703")
    assert lab.state("S-000703") == "reported"


def test_a_mismatching_read_back_is_refused_and_changes_nothing(lab):
    result = critical_sample(lab, "S-000704")
    run_before = len(get_run(str(CriticalNotification.objects.get(result=result).run_id)).history)
    with pytest.raises(LabError, match=r"read back, 1\.9, is not the result GLU 1\.8") as refused:
        call(lab, "S-000704", read_back="1.9")
    assert refused.value.field == "read_back"
    with pytest.raises(LabError, match="needs the value read back") as refused:
        call(lab, "S-000704", read_back="")
    assert refused.value.field == "read_back"
    with pytest.raises(LabError, match="not an outcome") as refused:
        call(lab, "S-000704", outcome="left a voicemail")
    assert refused.value.field == "outcome"
    assert CriticalCall.objects.count() == 0
    assert (
        len(get_run(str(CriticalNotification.objects.get(result=result).run_id)).history)
        == run_before
    )
    call(lab, "S-000704", read_back="1,80")  # a decimal comma, trailing zero: the same value
    assert not CriticalNotification.objects.get().is_open


def test_a_sample_within_the_critical_limits_opens_no_notification(lab):
    lab.register("S-000705")
    lab.receive("S-000705")
    lab.analyse("S-000705", "7.2")  # high, not critical
    assert not CriticalNotification.objects.exists()
    with pytest.raises(LabError, match="has no critical value to call"):
        call(lab, "S-000705")
    lab.verify("S-000705")
    assert lab.state("S-000705") == "reported"
    steps = [
        e.data["step"]
        for e in get_run(str(Result.objects.get().sample.run_id)).history
        if e.kind == "step_scheduled"
    ]
    assert "samples.critical_open" not in steps


def test_runs_started_on_version_3_release_a_critical_value_without_a_notification(lab):
    from workflows import registry

    version_4 = registry.get_workflow("sample_lifecycle", 4)
    registry.unregister_workflow("sample_lifecycle", 4)  # the lab before this change
    try:
        before = lab.register("S-000706")
    finally:
        registry.register_workflow(version_4)  # the deploy that adds the notification
        lab.env.restart_workers()
    after = lab.register("S-000707")
    for barcode in ("S-000706", "S-000707"):
        lab.receive(barcode)
        lab.analyse(barcode, "1.8")
    lab.verify("S-000706")  # version 3: flagged for the reviewer, released as it was
    assert lab.state("S-000706") == "reported"
    old = get_run(str(before.run_id))
    assert (old.version, old.status, old.result) == (3, "completed", "reported")
    assert not CriticalNotification.objects.filter(sample__barcode="S-000706").exists()
    assert Result.objects.get(sample__barcode="S-000706").critical_flagged_at is not None
    assert get_run(str(after.run_id)).version == 4
    assert CriticalNotification.objects.get().sample.barcode == "S-000707"
    assert_every_history_replays()


def test_a_value_corrected_into_the_critical_range_is_called_before_release(lab):
    """A correction can make a result critical: its notification opens as for a value found
    critical, and the sample is not signed until the call is recorded."""
    result = critical_sample(lab, "S-000711", value="5.0")
    assert not CriticalNotification.objects.exists()

    services.result_amend(
        user=lab.technician, result_id=result.pk, value="1.8", reason="transcription error"
    )
    lab.env.run_until_idle()
    notification = CriticalNotification.objects.get(result=result)
    assert notification.is_open
    assert get_run(str(notification.run_id)).workflow == "critical_notification"
    with pytest.raises(LabError, match=r"GLU 1.8 mmol/L \(LL\) is not yet notified"):
        lab.verify("S-000711")

    services.result_amend(  # still critical: the same notification, no second one
        user=lab.technician, result_id=result.pk, value="1.7", reason="second reading"
    )
    assert CriticalNotification.objects.filter(result=result).count() == 1
    call(lab, "S-000711", read_back="1.7")
    lab.verify("S-000711")
    assert lab.state("S-000711") == "reported"


def amend(lab, result: Result, value: str, reason: str = "transcription error") -> None:
    services.result_amend(user=lab.technician, result_id=result.pk, value=value, reason=reason)
    lab.env.run_until_idle()


def test_a_called_value_corrected_to_another_critical_value_is_called_again(lab, mailoutbox):
    """The clinician was told 1.8; the value is 30: a second notification, its own SLA,
    escalation and call, and release waits for it as for the first."""
    result = critical_sample(lab, "S-000721")
    call(lab, "S-000721")
    first = CriticalNotification.objects.get(result=result)
    assert not first.is_open and first.value == result.value

    amend(lab, result, "30", reason="the analyser's value was keyed wrongly")
    first.refresh_from_db()
    assert (first.number, first.value, first.outcome) == (1, result.value, "in_time")
    again = CriticalNotification.objects.get(result=result, number=2)
    assert again.is_open and (again.value, again.flag) == (30, "HH")
    assert again.reason == "the analyser's value was keyed wrongly"
    assert again.due_at - again.opened_at == timedelta(minutes=30)
    run = get_run(str(again.run_id))
    assert (run.workflow, run.version, run.status) == ("critical_notification", 2, "waiting")
    with pytest.raises(LabError, match=r"GLU 30 mmol/L \(HH\) is not yet notified"):
        lab.verify("S-000721")

    lab.env.advance_time(timedelta(minutes=31))  # its own SLA: the supervisors are told
    again.refresh_from_db()
    first.refresh_from_db()
    assert again.escalations >= 1 and first.escalations == 0
    assert mailoutbox and all("GLU 30 mmol/L (HH)" in mail.subject for mail in mailoutbox)

    with pytest.raises(LabError, match=r"read back, 1\.8, is not the result GLU 30 mmol/L"):
        call(lab, "S-000721", read_back="1.8")  # the value told before is not the one now
    recorded = call(lab, "S-000721", read_back="30")
    again.refresh_from_db()
    assert recorded.notification == again and again.outcome == "late"
    assert first.calls.count() == 1
    sample_run = again.sample.run_id
    assert signals(sample_run).count(f"critical:{result.pk}:2") == 1
    timeline = [line for _, line, _ in critical_timeline(again.sample)]
    assert "Critical value GLU 1.8 mmol/L (LL): notification opened" in timeline
    assert (
        "Critical value GLU 30 mmol/L (HH), corrected after the call (the analyser's value was "
        "keyed wrongly): notification opened to call it again"
    ) in timeline

    lab.verify("S-000721")
    assert lab.state("S-000721") == "reported"
    with pytest.raises(LabError, match="already notified"):
        call(lab, "S-000721", read_back="30")


def test_a_value_corrected_while_its_notification_is_open_is_read_back_as_corrected(lab):
    result = critical_sample(lab, "S-000722")
    notification = CriticalNotification.objects.get(result=result)
    due = notification.due_at
    call(lab, "S-000722", "unable_to_reach", read_back=None)

    amend(lab, result, "1.5", reason="diluted sample, value recalculated")
    notification.refresh_from_db()
    assert CriticalNotification.objects.filter(result=result).count() == 1  # not yet called
    assert (notification.value, notification.flag, notification.due_at) == (
        Decimal("1.5"), "LL", due
    )  # fmt: skip
    with pytest.raises(LabError, match=r"read back, 1\.8, is not the result GLU 1\.5 mmol/L"):
        call(lab, "S-000722", read_back="1.8")
    with pytest.raises(LabError, match=r"GLU 1.5 mmol/L \(LL\) is not yet notified"):
        lab.verify("S-000722")
    call(lab, "S-000722", read_back="1.5")
    notification.refresh_from_db()
    assert not notification.is_open and notification.calls.last().read_back == Decimal("1.5")
    lab.verify("S-000722")
    assert lab.state("S-000722") == "reported"


def test_a_called_value_corrected_out_of_the_critical_range_opens_nothing_more(lab):
    result = critical_sample(lab, "S-000723")
    call(lab, "S-000723")
    amend(lab, result, "5.0")
    assert CriticalNotification.objects.filter(result=result).count() == 1
    assert Result.objects.get(pk=result.pk).critical_flagged_at is None
    with pytest.raises(LabError, match="already notified"):
        call(lab, "S-000723", read_back="5.0")
    lab.verify("S-000723")
    assert lab.state("S-000723") == "reported"


def test_a_value_called_then_corrected_out_and_back_to_another_critical_is_called_again(lab):
    result = critical_sample(lab, "S-000724")
    call(lab, "S-000724")
    amend(lab, result, "5.0")
    amend(lab, result, "1.6", reason="the first correction was wrong")
    again = CriticalNotification.objects.get(result=result, number=2)
    assert again.is_open and again.value == Result.objects.get(pk=result.pk).value
    call(lab, "S-000724", read_back="1.6")
    lab.verify("S-000724")
    assert lab.state("S-000724") == "reported"


def test_a_correction_after_release_to_another_critical_value_is_called_before_re_release(lab):
    result = critical_sample(lab, "S-000725")
    call(lab, "S-000725")
    lab.verify("S-000725")
    assert lab.state("S-000725") == "reported"

    amend(lab, result, "28", reason="wrong patient's tube")
    again = CriticalNotification.objects.get(result=result, number=2)
    assert again.is_open and lab.state("S-000725") == "amended"
    with pytest.raises(LabError, match=r"GLU 28 mmol/L \(HH\) is not yet notified"):
        lab.verify("S-000725")
    call(lab, "S-000725", read_back="28")
    lab.verify("S-000725")
    assert lab.state("S-000725") == "reported"
    assert Report.objects.filter(sample__barcode="S-000725").count() == 2


def test_a_notification_started_on_version_1_finishes_on_it(lab):
    """A notification opened before notifications were numbered (its run on version 1, naming
    the result; no value of its own) is called and closed as before, and the lifecycle waiting
    for its signal goes on; a correction after that call opens the next one on version 2."""
    from workflows import registry

    lab.register("S-000726")
    lab.receive("S-000726")
    lab.to_batch("S-000726")
    lab.close_batches()
    lab.start_run()
    result = services.result_record(
        barcode="S-000726", assay_code="GLU", value="1.8", instrument=lab.instrument
    )
    version_2 = registry.get_workflow("critical_notification", 2)
    registry.unregister_workflow("critical_notification", 2)  # the lab before this change
    try:  # what its critical_open step did then
        opened = lab.env.now()
        first = CriticalNotification.objects.create(
            result=result,
            sample=result.sample,
            opened_at=opened,
            due_at=opened + timedelta(minutes=30),
        )
        first.run_id = start("critical_notification", result.pk, key=f"critical:{result.pk}")
        first.save(update_fields=["run_id"])
    finally:
        registry.register_workflow(version_2)  # the deploy that numbers the notifications
        lab.env.restart_workers()
    lab.env.run_until_idle()
    assert CriticalNotification.objects.get() == first  # the lifecycle's step found it
    old = get_run(str(first.run_id))
    assert (old.version, old.status) == (1, "waiting")
    with pytest.raises(LabError, match=r"GLU 1.8 mmol/L \(LL\) is not yet notified"):
        lab.verify("S-000726")

    with pytest.raises(LabError, match=r"read back, 1\.7, is not the result GLU 1\.8"):
        call(lab, "S-000726", read_back="1.7")
    call(lab, "S-000726")
    old = get_run(str(first.run_id))
    assert (old.status, old.result) == (
        "completed",
        "notification closed (notified within the SLA)",
    )
    assert f"critical:{result.pk}" in signals(first.sample.run_id)

    amend(lab, result, "27")  # the value called is not recorded: called again
    again = CriticalNotification.objects.get(result=result, number=2)
    assert get_run(str(again.run_id)).version == 2
    call(lab, "S-000726", read_back="27")
    lab.verify("S-000726")
    assert lab.state("S-000726") == "reported"
    assert_every_history_replays()


def test_a_value_not_yet_called_corrected_out_of_the_range_is_withdrawn_and_released(lab):
    """Nobody was told 1.8, and 4.8 is not critical: there is no call to make. The notification
    is withdrawn by the correction, its workflow closes it, and release goes on."""
    result = critical_sample(lab, "S-000727")
    call(lab, "S-000727", "unable_to_reach", read_back=None)
    notification = CriticalNotification.objects.get(result=result)
    assert notification.is_open

    amend(lab, result, "4.8", reason="the sample was haemolysed; value from the redraw")
    notification.refresh_from_db()
    assert notification.outcome == "withdrawn"
    assert (notification.value, notification.flag) == (Decimal("1.8"), "LL")  # as opened
    withdrawal = notification.calls.get(outcome="withdrawn")
    assert withdrawal.recorded_by == lab.technician and withdrawal.read_back is None
    assert notification.closed_at == withdrawal.called_at
    assert get_run(str(notification.run_id)).status == "completed"
    assert signals(notification.sample.run_id).count(f"critical:{result.pk}") == 1
    timeline = [line for _, line, _ in critical_timeline(notification.sample)]
    assert any(
        line.startswith("No call needed: the value was corrected out of") for line in timeline
    )
    assert (
        "Notification closed (withdrawn: corrected out of the critical range before a call)"
        in timeline
    )
    with pytest.raises(LabError, match="already notified"):
        call(lab, "S-000727", read_back="4.8")

    trail = [e.what for e in audit_entries(AuditFilter(sample="S-000727"))]
    assert any(
        what.startswith("No call needed about the critical GLU value of S-000727: corrected out")
        and what.endswith("before anyone was told it by tess")
        for what in trail
    ), trail

    lab.verify("S-000727")
    assert lab.state("S-000727") == "reported"
    counts = critical_counts(since=notification.opened_at - timedelta(days=1))
    assert (counts.opened, counts.in_time, counts.breached) == (1, 0, 0)


def test_a_withdrawn_value_corrected_back_into_the_range_is_called(lab):
    result = critical_sample(lab, "S-000728")
    amend(lab, result, "4.8")
    amend(lab, result, "1.8", reason="the redraw was the wrong patient's")
    first, again = CriticalNotification.objects.filter(result=result).order_by("number")
    assert (first.outcome, again.number, again.value) == ("withdrawn", 2, Decimal("1.8"))
    assert again.is_open
    with pytest.raises(LabError, match=r"GLU 1.8 mmol/L \(LL\) is not yet notified"):
        lab.verify("S-000728")
    call(lab, "S-000728", read_back="1.8")
    lab.verify("S-000728")
    assert lab.state("S-000728") == "reported"
