"""The outbox page: who sees it, who may send a message again, and that a re-send needs a
reason, is refused for a message not failing or parked, and answers hostile input with 4xx,
changing nothing. A re-send goes over a real socket to a peer started here."""

from __future__ import annotations

import pytest
from django.db import connection

from samples import services
from samples.models import Destination, OutboundMessage, OutboundStatus
from samples.roles import Role
from tests.samples.peers import MllpPeer

HTMX = {"HTTP_HX_REQUEST": "true"}
PAGE = "/outbox/"


@pytest.fixture
def ward():
    with MllpPeer("AA") as peer:
        yield peer


@pytest.fixture
def parked(lab, ward):
    """A message to the ward, parked after its attempts (the ward was down then)."""
    lab.register("S-000601")
    Destination.objects.create(name="ward", protocol="mllp", host="127.0.0.1", port=ward.port)
    [message_id] = services.outbox_prepare(
        barcode="S-000601", kind="original", prepared_by="test:1"
    )
    OutboundMessage.objects.filter(pk=message_id).update(
        status=OutboundStatus.FAILING, attempts=5, last_error="ConnectionRefusedError: refused"
    )
    services.outbox_park(message_id=message_id, error="StepFailed")
    return OutboundMessage.objects.get(pk=message_id)


def resend(client, message, reason="ward back up", **extra):
    return client.post(f"{PAGE}{message.pk}/resend/", {"reason": reason}, **extra)


def unchanged(message):
    now = OutboundMessage.objects.get(pk=message.pk)
    return (now.status, now.resends, now.resend_reason) == (message.status, 0, "")


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.INSTRUMENT])
def test_the_page_is_refused_to_other_roles(make_user, signed_in, parked, role):
    client = signed_in(make_user("other", role))
    assert client.get(PAGE).status_code == 403
    assert resend(client, parked).status_code == 403
    assert unchanged(parked)


def test_anonymous_visitors_go_to_the_sign_in_page(client, parked):
    assert client.get(PAGE).status_code == 302
    assert resend(client, parked).status_code == 302
    assert unchanged(parked)


def test_a_compliance_officer_reads_the_outbox_but_may_not_send_again(
    compliance_officer, signed_in, parked
):
    client = signed_in(compliance_officer)
    page = client.get(PAGE)
    assert page.status_code == 200
    html = page.content.decode()
    assert parked.control_id in html and "ConnectionRefusedError: refused" in html
    assert "Send again" not in html
    refused = resend(client, parked, **HTMX)
    assert refused.status_code == 403 and b"Only a reviewer may do this." in refused.content
    assert unchanged(parked)


def test_the_page_shows_each_status_with_its_count(reviewer, signed_in, parked):
    client = signed_in(reviewer)
    html = client.get(PAGE).content.decode()
    assert "Parked (1)" in html and "Acknowledged (0)" in html and "Send again" in html
    assert parked.control_id in client.get(PAGE, {"status": "parked"}).content.decode()
    assert parked.control_id not in client.get(PAGE, {"status": "sent"}).content.decode()


def test_a_reviewer_sends_a_parked_message_again_with_a_reason(
    lab, reviewer, signed_in, parked, ward
):
    client = signed_in(reviewer)
    answer = resend(client, parked, reason="  ward back up  ", **HTMX)
    assert answer.status_code == 200
    assert answer.content.decode().startswith(f'<tr id="out-{parked.pk}"')
    assert "Sent again" in answer.content.decode()
    lab.env.run_until_idle()
    message = OutboundMessage.objects.get(pk=parked.pk)
    assert message.status == OutboundStatus.ACKNOWLEDGED and message.control_id in ward.received[0]
    assert (message.resent_by, message.resend_reason, message.resends) == (
        reviewer,
        "ward back up",
        1,
    )
    event = message.audit_events.filter(resends=1).order_by("pgh_id").first()
    assert event.pgh_context_snapshot["reason"] == "ward back up"
    assert event.pgh_context_snapshot["user"] == reviewer.pk


@pytest.mark.parametrize("reason", ["", "   ", "x" * 2001])
def test_a_resend_without_a_usable_reason_is_refused_in_its_row(
    reviewer, signed_in, parked, reason
):
    client = signed_in(reviewer)
    answer = resend(client, parked, reason=reason, **HTMX)
    assert answer.status_code == 400
    html = answer.content.decode()
    assert html.startswith(f'<tr id="out-{parked.pk}"') and 'role="alert"' in html
    assert unchanged(parked)
    page = resend(client, parked, reason=reason)  # the form without htmx: the whole page
    assert page.status_code == 400 and b"<h1>Outbox</h1>" in page.content
    assert unchanged(parked)


def test_a_message_not_failing_or_parked_is_not_sent_again(reviewer, signed_in, parked):
    OutboundMessage.objects.filter(pk=parked.pk).update(status=OutboundStatus.ACKNOWLEDGED)
    answer = resend(signed_in(reviewer), parked, **HTMX)
    assert answer.status_code == 409
    assert b"only a failing or parked message can be sent again" in answer.content
    message = OutboundMessage.objects.get(pk=parked.pk)
    assert message.status == OutboundStatus.ACKNOWLEDGED and message.resends == 0


def test_hostile_input_gets_4xx_and_changes_nothing(reviewer, signed_in, parked):
    client = signed_in(reviewer)
    assert client.post(f"{PAGE}999999/resend/", {"reason": "x"}).status_code == 404
    assert client.post(f"{PAGE}{'9' * 30}/resend/", {"reason": "x"}).status_code == 404
    assert client.get(f"{PAGE}{parked.pk}/resend/").status_code == 405
    assert resend(client, parked, reason="ward\x00up").status_code == 400
    page = client.get(PAGE, {"status": "<script>alert(1)</script>"})
    assert page.status_code == 200
    assert b"<script>alert(1)" not in page.content and b"is not a status" in page.content
    assert client.get(PAGE, {"status": "x\x00"}).status_code == 400
    assert unchanged(parked)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM workflows_run WHERE workflow = 'results_out'")
        assert cursor.fetchone()[0] == 0


ADD = "/admin/samples/destination/add/"


def test_an_administrator_configures_a_destination_with_its_address(administrator, signed_in):
    client = signed_in(administrator)
    form = {"name": "ward", "protocol": "mllp", "host": "10.0.0.5", "port": "", "url": ""}
    refused = client.post(ADD, {**form, "is_active": "on"})
    assert refused.status_code == 200
    assert b"An MLLP destination needs a host and a port" in refused.content
    for bad in ({"port": "70000"}, {"protocol": "http", "url": "file:///etc/passwd"}):
        assert client.post(ADD, {**form, "port": "2575", **bad}).status_code == 200
    assert not Destination.objects.exists()
    assert client.post(ADD, {**form, "port": "2575", "is_active": "on"}).status_code == 302
    ward = Destination.objects.get()
    assert (ward.address, ward.is_active) == ("10.0.0.5:2575", True)
    event = ward.audit_events.get()
    assert event.pgh_label == "insert" and event.pgh_context_snapshot["user"] == administrator.pk
    assert client.get(f"/admin/samples/destination/{ward.pk}/delete/").status_code == 403


def test_other_roles_may_not_configure_destinations(reviewer, signed_in):
    assert signed_in(reviewer).get(ADD).status_code == 302  # the admin site's sign-in
