"""Results out, end to end: a sample released on lifecycle version 3 is sent as an ORU^R01 to
each active destination, over real sockets to peers started here (MLLP and HTTP), retried on
the engine's clock and parked after its last attempt; a correction after release sends a
corrected message once a reviewer signed it again; runs started before version 3 finish without
sending. Each test in both engine modes, and every history the test leaves is replayed from the
table afterwards (tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import hl7
import pytest

from samples import services
from samples.models import Destination, OutboundMessage, OutboundStatus
from tests.modes import BOTH_MODES
from tests.samples.lab import Lab
from tests.samples.peers import HttpPeer, MllpPeer, closed_port
from workflows.api import get_run
from workflows.testing import WorkflowTestEnv


@pytest.fixture(params=BOTH_MODES)
def lab(request, technician, reviewer, instrument, settings):
    settings.OUTBOX_ACK_TIMEOUT_SECONDS = 1
    with WorkflowTestEnv(moving_clock=True) as env:
        yield Lab(env, technician, reviewer, instrument)


def mllp(name: str, port: int, active: bool = True) -> Destination:
    return Destination.objects.create(
        name=name, protocol="mllp", host="127.0.0.1", port=port, is_active=active
    )


def released(lab: Lab, barcode: str, value: str = "7.2") -> None:
    lab.register(barcode)
    lab.receive(barcode)
    lab.analyse(barcode, value)
    lab.verify(barcode)


def by_destination() -> dict[str, OutboundMessage]:
    return {m.destination.name: m for m in OutboundMessage.objects.select_related("destination")}


def every_retry_comes_due(lab: Lab) -> None:
    """Two hours on the engine's clock, ten minutes at a time: each retry (60 s, doubling)
    comes due and runs, and so does the one it schedules."""
    for _ in range(12):
        lab.env.advance_time(timedelta(minutes=10))


def steps_of(barcode: str) -> list[str]:
    from samples.models import Sample

    run = get_run(str(Sample.objects.get(barcode=barcode).run_id))
    return [e.data["step"] for e in run.history if e.kind == "step_scheduled"]


def test_a_released_sample_is_sent_to_every_active_destination_and_acknowledged(lab):
    with MllpPeer("AA") as ward, HttpPeer("AA") as clinic:
        mllp("ward", ward.port)
        Destination.objects.create(name="clinic", protocol="http", url=clinic.url)
        mllp("retired", closed_port(), active=False)
        released(lab, "S-000501")

    messages = {
        m.destination.name: m for m in OutboundMessage.objects.select_related("destination")
    }
    assert set(messages) == {"clinic", "ward"}  # never the inactive one
    for message, peer in ((messages["ward"], ward), (messages["clinic"], clinic)):
        assert message.status == OutboundStatus.ACKNOWLEDGED and message.attempts == 1
        assert message.kind == "original" and message.acknowledged_at is not None
        assert len(peer.received) == 1
        sent = hl7.parse(peer.received[0])
        assert bytes(message.payload).decode().rstrip("\r") == peer.received[0].rstrip("\r")
        assert str(sent.segment("MSH")[10]) == message.control_id
        assert "|AA|" + message.control_id in message.ack
    assert clinic.content_types == ["x-application/hl7-v2+er7; charset=utf-8"]
    sent = hl7.parse(ward.received[0])
    assert str(sent.segment("MSH")[3]) == "LABTRACK" and str(sent.segment("MSH")[12]) == "2.5.1"
    assert str(sent.segment("OBR")[3][0][0]) == "S-000501"
    obx = sent.segment("OBX")
    assert [str(obx[i]) for i in (5, 6, 7, 8, 11)] == ["7.2", "mmol/L", "3.9-5.6", "H", "F"]
    run = get_run(str(messages["ward"].sample.run_id))
    assert (run.version, run.status, run.result) == (4, "completed", "reported")
    assert steps_of("S-000501")[-3:] == [
        "samples.outbox_prepare",
        "samples.outbox_send",
        "samples.outbox_send",
    ]


def test_an_ae_answer_is_retried_with_the_same_control_id_then_parked_with_its_text(lab, settings):
    with MllpPeer("AE") as ward:
        mllp("ward", ward.port)
        released(lab, "S-000502")
        message = OutboundMessage.objects.get()
        assert message.status == OutboundStatus.FAILING and message.attempts == 1
        assert "AE: unknown ward" in message.last_error
        assert lab.state("S-000502") == "reported"  # the sample does not wait for the ward
        every_retry_comes_due(lab)

    message.refresh_from_db()
    assert message.status == OutboundStatus.PARKED and message.parked_at is not None
    assert message.attempts == settings.OUTBOX_ATTEMPTS == len(ward.received)
    assert message.last_error == "AE: unknown ward"
    control_ids = {str(hl7.parse(text).segment("MSH")[10]) for text in ward.received}
    assert control_ids == {message.control_id}  # one message, sent again, never a new one
    run = get_run(str(message.sample.run_id))
    assert (run.status, run.result) == ("completed", "reported")
    failures = [e for e in run.history if e.kind == "step_failed"]
    assert len(failures) == settings.OUTBOX_ATTEMPTS and failures[-1].data["final"]
    assert steps_of("S-000502")[-1] == "samples.outbox_park"


def test_a_silent_peer_and_a_refused_connection_are_parked_and_the_others_still_sent(lab):
    with MllpPeer("silent") as mute, MllpPeer("AA") as ward:
        mllp("a-mute", mute.port)
        mllp("b-nobody", closed_port())
        mllp("c-ward", ward.port)
        released(lab, "S-000503")
        every_retry_comes_due(lab)

    by_name = by_destination()
    assert by_name["a-mute"].status == by_name["b-nobody"].status == OutboundStatus.PARKED
    assert "timed out" in by_name["a-mute"].last_error
    assert "ConnectionRefusedError" in by_name["b-nobody"].last_error
    assert by_name["c-ward"].status == OutboundStatus.ACKNOWLEDGED
    assert len(ward.received) == 1 and len(mute.received) == 5
    assert lab.state("S-000503") == "reported"


def test_a_prepared_step_run_again_finds_its_messages_and_their_control_ids(lab):
    with MllpPeer("AA") as ward:
        mllp("ward", ward.port)
        released(lab, "S-000504")
        first = OutboundMessage.objects.get()
        again = services.outbox_prepare(
            barcode="S-000504", kind="original", prepared_by=first.prepared_by
        )
        assert again == [first.pk] and OutboundMessage.objects.count() == 1
        # A send step run again (a worker lost after the ACK) sends nothing more.
        assert services.outbox_attempt(message_id=first.pk) == "acknowledged"
    assert len(ward.received) == 1


def test_an_attempt_left_unanswered_is_sent_again_as_the_same_message(lab):
    """The ACK lost (the ward took the message but never answered): the retry sends the very
    same message, control id and bytes, and the second answer acknowledges it."""
    with MllpPeer("silent", then="AA") as ward:
        mllp("ward", ward.port)
        released(lab, "S-000510")
        message = OutboundMessage.objects.get()
        assert message.status == OutboundStatus.FAILING and "timed out" in message.last_error
        every_retry_comes_due(lab)
    message.refresh_from_db()
    assert message.status == OutboundStatus.ACKNOWLEDGED and message.attempts == 2
    assert message.last_error == ""
    assert ward.received[0] == ward.received[1]
    assert message.control_id in ward.received[0]


def test_an_http_destination_answering_ae_is_parked_with_the_ack_text(lab):
    with HttpPeer("AE") as clinic:
        Destination.objects.create(name="clinic", protocol="http", url=clinic.url)
        released(lab, "S-000511")
        every_retry_comes_due(lab)
    message = OutboundMessage.objects.get()
    assert message.status == OutboundStatus.PARKED and message.attempts == len(clinic.received)
    assert message.last_error == "AE: unknown ward" and "|AE|" in message.ack
    assert lab.state("S-000511") == "reported"


def test_a_run_cancelled_while_it_sends_parks_the_message_and_the_sample_stays_reported(lab):
    from workflows.api import cancel

    with MllpPeer("AE") as ward:
        mllp("ward", ward.port)
        released(lab, "S-000512")
        message = OutboundMessage.objects.get()
        assert message.status == OutboundStatus.FAILING  # its retry waits
        run_id = str(message.sample.run_id)
        cancel(run_id, actor="code", reason="the ordering system was retired")
        lab.env.run_until_idle()
    message.refresh_from_db()
    assert message.status == OutboundStatus.PARKED and message.last_error == "AE: unknown ward"
    assert len(ward.received) == 1  # the waiting retry never ran
    assert get_run(run_id, history=False).status == "cancelled"
    assert lab.state("S-000512") == "reported"


def test_a_correction_after_release_is_sent_once_a_reviewer_signed_it_again(lab):
    with MllpPeer("AA") as ward:
        mllp("ward", ward.port)
        released(lab, "S-000505")
        result = lab_result("S-000505")
        services.result_amend(user=lab.technician, result_id=result.pk, value="6.1",
                              reason="transcription error")  # fmt: skip
        lab.env.run_until_idle()
        # Not verified yet: nothing goes out.
        assert OutboundMessage.objects.count() == 1 and len(ward.received) == 1
        lab.verify("S-000505")

    original, corrected = OutboundMessage.objects.order_by("created_at", "pk")
    assert (original.kind, corrected.kind) == ("original", "corrected")
    assert corrected.status == OutboundStatus.ACKNOWLEDGED
    assert corrected.control_id != original.control_id
    message = hl7.parse(ward.received[1])
    obx = message.segment("OBX")
    assert (str(obx[5]), str(obx[8]), str(obx[11])) == ("6.1", "H", "C")
    assert str(message.segment("OBR")[25]) == "C"
    assert str(hl7.parse(ward.received[0]).segment("OBX")[11]) == "F"


def test_a_correction_before_release_sends_nothing(lab):
    with MllpPeer("AA") as ward:
        mllp("ward", ward.port)
        lab.register("S-000506")
        lab.receive("S-000506")
        lab.analyse("S-000506", "7.2")
        services.result_amend(user=lab.technician, result_id=lab_result("S-000506").pk,
                              value="6.1", reason="transcription error")  # fmt: skip
        lab.env.run_until_idle()
        assert OutboundMessage.objects.count() == 0
        lab.verify("S-000506")
    message = OutboundMessage.objects.get()
    assert message.kind == "original"
    assert str(hl7.parse(ward.received[0]).segment("OBX")[11]) == "F"


def test_a_supervisor_resends_a_parked_message_with_a_reason(lab, reviewer):
    with MllpPeer("AR") as ward:
        mllp("ward", ward.port)
        released(lab, "S-000507")
        every_retry_comes_due(lab)
        message = OutboundMessage.objects.get()
        assert message.status == OutboundStatus.PARKED
        ward.answer = "AA"  # the ward fixed its side
        services.outbox_resend(user=reviewer, message_id=message.pk, reason="ward fixed")
        lab.env.run_until_idle()
    message.refresh_from_db()
    assert message.status == OutboundStatus.ACKNOWLEDGED
    assert (message.resent_by, message.resend_reason, message.resends) == (
        reviewer,
        "ward fixed",
        1,
    )
    assert {str(hl7.parse(t).segment("MSH")[10]) for t in ward.received} == {message.control_id}
    events = list(message.audit_events.order_by("pgh_id").values_list("status", flat=True))
    assert events[0] == "pending" and "parked" in events and events[-1] == "acknowledged"


def test_runs_started_before_version_3_finish_without_sending(lab):
    from workflows import registry

    version_3 = registry.get_workflow("sample_lifecycle", 3)
    version_4 = registry.get_workflow("sample_lifecycle", 4)
    registry.unregister_workflow("sample_lifecycle", 4)
    registry.unregister_workflow("sample_lifecycle", 3)  # the lab before results out
    try:
        lab.register("S-000508")
    finally:
        registry.register_workflow(version_3)  # the deploy that adds results out
        registry.register_workflow(version_4)
        lab.env.restart_workers()
    with MllpPeer("AA") as ward:
        mllp("ward", ward.port)
        lab.receive("S-000508")
        lab.analyse("S-000508", "7.2")
        lab.verify("S-000508")
        released(lab, "S-000509")
    assert "samples.outbox_send" not in steps_of("S-000508")
    assert "samples.outbox_send" in steps_of("S-000509")
    assert list(OutboundMessage.objects.values_list("sample__barcode", flat=True)) == ["S-000509"]


def lab_result(barcode: str):
    from samples.models import Result

    return Result.objects.get(sample__barcode=barcode, superseded_by__isnull=True)
