"""The critical values page and the call form (pages and the API): open ones oldest first
with the time left; a call recorded closes the notification and release goes on; refusals
come back with what was typed, 4xx, nothing recorded; the review page and the dashboard say
what is open; the timeline says it in lab words."""

from __future__ import annotations

import json

import pytest

from samples import services
from samples.models import CriticalCall, CriticalNotification, Result
from tests.cast import PASSWORD
from tests.samples.lab import api_for


@pytest.fixture
def critical(lab):
    """S-000801 resulted with GLU 1.8 mmol/L (LL), its notification open."""
    lab.register("S-000801")
    lab.receive("S-000801")
    lab.analyse("S-000801", "1.8")
    return CriticalNotification.objects.get()


def post_call(client, notification, htmx=True, **fields):
    body = {"called_name": "Dr Ruiz", "called_where": "ward 5", "outcome": "confirmed",
            "read_back": "1.8", **fields}  # fmt: skip
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(f"/critical/{notification.pk}/call/", body, **headers)


def test_the_page_lists_the_open_ones_with_the_time_left_and_the_form(critical, signed_in, lab):
    page = signed_in(lab.technician).get("/critical/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Critical value GLU 1.8 mmol/L (LL)" in body and "S-000801" in body
    assert "Critical value not yet notified" in body and "min left" in body
    assert 'name="called_name"' in body and "autofocus" in body


def test_a_call_from_the_page_closes_it_and_the_sample_can_be_signed(critical, signed_in, lab):
    client = signed_in(lab.technician)
    answer = post_call(client, critical)
    assert answer.status_code == 200
    assert "Call recorded." in answer.content.decode()
    lab.env.run_until_idle()
    critical.refresh_from_db()
    assert not critical.is_open and critical.outcome == "in_time"
    timeline = client.get("/samples/S-000801/").content.decode()
    assert "Critical value GLU 1.8 mmol/L (LL): notification opened" in timeline
    assert "Call to Dr Ruiz (ward 5) at " in timeline and ": confirmed, read back 1.8" in timeline
    assert "Notification closed (notified within the SLA)" in timeline
    lab.verify("S-000801")
    assert lab.state("S-000801") == "reported"


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"read_back": "1.9"}, 400, "The value read back, 1.9, is not the result"),
        ({"read_back": ""}, 400, "needs the value read back"),
        ({"outcome": "voicemail"}, 400, "is not an outcome of a call"),
        ({"outcome": "withdrawn"}, 400, "is not an outcome of a call"),  # a correction's
        ({"called_name": "  "}, 400, "Name the person called."),
        ({"called_at": "yesterday"}, 400, "is not a time like"),
    ],
)
def test_a_refused_call_comes_back_as_typed(critical, signed_in, lab, fields, status, words):
    answer = post_call(signed_in(lab.technician), critical, **fields)
    body = answer.content.decode()
    assert answer.status_code == status and words in body
    assert 'value="ward 5"' in body  # what was typed stays
    assert not CriticalCall.objects.exists()
    assert CriticalNotification.objects.get().is_open


def test_a_call_on_a_closed_notification_is_refused_409(critical, signed_in, lab):
    client = signed_in(lab.technician)
    post_call(client, critical)
    lab.env.run_until_idle()
    again = post_call(client, critical, htmx=False)
    assert again.status_code == 409 and "already notified" in again.content.decode()
    assert CriticalCall.objects.count() == 1


def test_roles(critical, signed_in, lab, compliance_officer):
    assert post_call(signed_in(compliance_officer), critical).status_code == 403
    assert signed_in(compliance_officer).get("/critical/").status_code == 200
    assert not CriticalCall.objects.exists()


def test_verification_is_refused_409_naming_the_assay_while_open(critical, signed_in, lab):
    client = signed_in(lab.reviewer)
    review = client.get("/review/").content.decode()
    assert "Critical value not yet notified" in review
    refused = client.post(
        "/review/S-000801/verify/", {"password": PASSWORD, "username": lab.reviewer.username}
    )
    assert refused.status_code in (302, 409)
    assert lab.state("S-000801") == "resulted"
    assert not Result.objects.get().sample.signatures.exists()


def test_the_dashboard_shows_open_and_breached(critical, signed_in, lab):
    client = signed_in(lab.reviewer)
    assert "not yet notified" in client.get("/dashboard/").content.decode()
    period = client.get("/dashboard/period/", {"days": "7"}).content.decode()
    assert "Critical values notified within the SLA" in period and "1 opened" in period


def test_the_api_records_a_call_and_refuses_what_it_must(critical, lab, compliance_officer):
    api = api_for(lab.technician)
    url = "/api/v1/samples/S-000801/critical-calls/"

    def send(client, **fields):
        body = {"called_name": "Dr Ruiz", "outcome": "confirmed", "read_back": "1.8", **fields}
        return client.post(url, json.dumps(body), content_type="application/json")

    assert send(api, read_back="2.8").json() == {
        "read_back": [
            "The value read back, 2.8, is not the result GLU 1.8 mmol/L (LL): read the value "
            "again, or record the call as reached without read-back."
        ]
    }
    assert send(api, outcome="nope").status_code == 400
    assert "outcome" in send(api, outcome="withdrawn").json()  # recorded by a correction only
    assert send(api_for(compliance_officer)).status_code == 403
    unknown = api.post("/api/v1/samples/S-999999/critical-calls/", {}, format="json")
    assert unknown.status_code == 404
    assert not CriticalCall.objects.exists()

    made = send(api, called_where="ward 5")
    assert made.status_code == 201, made.content
    assert made.json()["outcome"] == "confirmed" and made.json()["closes"] is True
    lab.env.run_until_idle()
    closed = send(api)
    assert closed.status_code == 400 and "already notified" in str(closed.json())
    assert CriticalCall.objects.count() == 1


def test_a_call_typed_on_a_page_whose_notification_was_replaced_is_refused(
    critical, signed_in, lab
):
    """The value called was corrected to another critical value: a page still showing the
    first notification records nothing on the second one (its value is another)."""
    client = signed_in(lab.technician)
    assert post_call(client, critical).status_code == 200
    lab.env.run_until_idle()
    result = Result.objects.get(sample__barcode="S-000801")
    services.result_amend(user=lab.technician, result_id=result.pk, value="30", reason="keyed")
    lab.env.run_until_idle()
    again = CriticalNotification.objects.get(number=2)

    stale = post_call(client, critical, read_back="30")
    assert stale.status_code == 409
    assert "The notification shown is closed" in stale.content.decode()
    assert "GLU 30 mmol/L (HH)" in stale.content.decode()
    assert ": confirmed, read back 1.8 <" in stale.content.decode()  # the first one's call
    assert not again.calls.exists() and again.is_open
    assert post_call(client, again, read_back="30").status_code == 200
    assert again.calls.get().read_back == 30


def test_a_withdrawal_is_said_as_such_until_its_workflow_closes_it(critical, signed_in, lab):
    client = signed_in(lab.technician)
    result = Result.objects.get(sample__barcode="S-000801")
    services.result_amend(user=lab.technician, result_id=result.pk, value="4.8", reason="keyed")
    box = client.get(f"/critical/{critical.pk}/").content.decode()
    assert "No call needed (corrected out of the critical range): closing the notification" in box
    lab.env.run_until_idle()
    box = client.get(f"/critical/{critical.pk}/").content.decode()
    assert "Notification closed" in box and "withdrawn" in box
