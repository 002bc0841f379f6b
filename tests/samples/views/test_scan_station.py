"""The scan station and the sample page: what each role sees and may do, and every refusal."""

from __future__ import annotations

import pytest

from samples.lifecycle.names import LIFECYCLE
from samples.models import Sample
from workflows.registry import newest_workflow

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def registered(lab):
    return lab.register("S-000201")


def test_scanning_a_known_barcode_shows_its_card_with_the_actions_open_now(
    lab, registered, signed_in
):
    client = signed_in(lab.technician)
    response = client.post("/scan/", {"barcode": " s-000201 "}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "S-000201" in body and "Registered" in body
    assert 'accesskey="r"' in body and "Reject" in body
    # What the lifecycle waits for, in the lab's words (its deadline: the stability window).
    now = '<dt>Now</dt><dd class="waiting-for">Waiting for receipt at reception (window ends '
    assert now in body
    assert "signal &#x27;" not in body


def test_an_unknown_barcode_is_a_loud_404_that_changes_nothing(lab, signed_in):
    client = signed_in(lab.technician)
    for headers in (HTMX, {}):
        response = client.post("/scan/", {"barcode": "S-404404"}, **headers)
        assert response.status_code == 404
        assert 'role="alert"' in response.content.decode()
        assert "Unknown barcode S-404404" in response.content.decode()
    assert not Sample.objects.exists()


def test_receiving_from_the_card_moves_the_sample_on(lab, registered, signed_in):
    client = signed_in(lab.technician)
    response = client.post("/samples/S-000201/receive/", {"condition": "haemolysed"}, **HTMX)
    assert response.status_code == 200
    body = response.content.decode()
    # The lifecycle has not recorded the receipt yet: the message says no more than the badge.
    assert "S-000201: receipt recorded; its lifecycle moves it on." in body
    assert "S-000201 received" not in body
    assert '<span class="state-badge">Registered</span>' in body
    lab.env.run_until_idle()
    card = client.get("/samples/S-000201/card/", **HTMX).content.decode()
    assert "Received" in card and "Add to the open" in card
    assert "receipt recorded" not in card  # the refresh leaves the message area alone


def test_the_message_goes_to_the_message_area_that_refreshes_leave_alone(
    lab, registered, signed_in
):
    client = signed_in(lab.technician)
    body = client.post("/samples/S-000201/reject/", {"reason": "clotted"}, **HTMX)
    body = body.content.decode()
    card, message = body.split('<div id="bench-message" hx-swap-oob="innerHTML">')
    assert 'id="card-S-000201"' in card and "rejection recorded" not in card
    assert "S-000201: rejection recorded; its lifecycle moves it on." in message
    scan_page = client.get("/scan/").content.decode()
    assert '<div id="bench-message" class="bench-message" aria-live="polite">' in scan_page
    sample_page = client.get("/samples/S-000201/").content.decode()
    assert '<div id="bench-message" class="bench-message" aria-live="polite">' in sample_page


def test_an_answer_the_lifecycle_has_not_caught_up_with_says_only_what_is_recorded(
    lab, registered, signed_in, settings
):
    """The answer waits a bounded time for the lifecycle (here nothing moves while it waits),
    then says what is recorded; once recorded, a second scan speaks of the sample as it is."""
    settings.BENCH_ACTION_WAIT_SECONDS = 1
    lab.receive("S-000201")
    client = signed_in(lab.technician)
    response = client.post("/samples/S-000201/batch/", **HTMX)
    assert response.status_code == 200
    assert "S-000201: request for the open batch recorded" in response.content.decode()
    lab.env.run_until_idle()
    again = client.post("/samples/S-000201/batch/", **HTMX).content.decode()
    assert "S-000201 is already in an open batch." in again
    assert '<span class="state-badge">Awaiting batch</span>' in again


def test_an_action_sent_as_a_plain_form_answers_the_whole_scan_station(lab, registered, signed_in):
    client = signed_in(lab.technician)
    response = client.post("/samples/S-000201/receive/", {"condition": "acceptable"})
    body = response.content.decode()
    assert response.status_code == 200
    assert '<nav class="site-nav"' in body and 'id="barcode"' in body and "autofocus" in body
    assert 'id="card-S-000201"' in body
    assert "S-000201: receipt recorded; its lifecycle moves it on." in body
    refused = client.post("/samples/S-000201/reject/", {"reason": ""})
    assert refused.status_code == 400
    assert '<nav class="site-nav"' in refused.content.decode()
    assert "A rejection needs a reason." in refused.content.decode()


def test_an_action_address_opened_as_a_page_goes_to_the_scan_station(lab, registered, signed_in):
    client = signed_in(lab.technician)
    response = client.get("/samples/s-000201/receive/")
    assert response.status_code == 302
    assert response["Location"] == "/scan/?barcode=S-000201"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert 'id="card-S-000201"' in page.content.decode()
    assert client.get("/samples/S-000201/bogus/").status_code == 404
    assert client.put("/samples/S-000201/receive/").status_code == 405
    lab.env.run_until_idle()
    assert lab.state("S-000201") == "registered"  # opening it changed nothing


def test_a_link_to_the_scan_station_with_an_unknown_barcode_says_so(lab, signed_in):
    client = signed_in(lab.technician)
    response = client.get("/scan/?barcode=S-404404")
    assert response.status_code == 404
    assert "Unknown barcode S-404404" in response.content.decode()


def test_a_rejection_without_a_reason_is_refused_and_changes_nothing(lab, registered, signed_in):
    client = signed_in(lab.technician)
    response = client.post("/samples/S-000201/reject/", {"reason": " "}, **HTMX)
    assert response.status_code == 400
    assert "A rejection needs a reason." in response.content.decode()
    lab.env.run_until_idle()
    assert lab.state("S-000201") == "registered"


def test_an_action_not_allowed_now_answers_409_with_the_reason(lab, registered, signed_in):
    client = signed_in(lab.technician)
    response = client.post("/samples/S-000201/batch/", **HTMX)
    assert response.status_code == 409
    assert "only a received sample" in response.content.decode()


def test_a_reviewer_sees_the_card_but_no_bench_actions(lab, registered, signed_in):
    client = signed_in(lab.reviewer)
    body = client.post("/scan/", {"barcode": "S-000201"}).content.decode()
    assert "S-000201" in body and 'accesskey="r"' not in body
    assert client.post("/samples/S-000201/receive/", {"condition": "acceptable"}).status_code == 403
    lab.env.run_until_idle()
    assert lab.state("S-000201") == "registered"


def test_a_compliance_officer_reads_the_sample_page_but_has_no_scan_station(
    lab, registered, compliance_officer, signed_in
):
    client = signed_in(compliance_officer)
    assert client.get("/scan/").status_code == 403
    page = client.get("/samples/S-000201/")
    assert page.status_code == 200 and "Timeline" in page.content.decode()


def test_the_card_stops_polling_once_the_sample_is_final(lab, registered, signed_in):
    lab.env.advance_time(25 * 3600)  # past its stability window: expired
    client = signed_in(lab.technician)
    assert client.get("/samples/S-000201/card/", **HTMX).status_code == 286
    assert client.get("/samples/S-000201/card/").status_code == 200


def test_the_sample_page_tells_the_story_with_who_and_why(lab, registered, signed_in):
    lab.receive("S-000201")
    client = signed_in(lab.technician)
    body = client.get("/samples/S-000201/").content.decode()
    newest = newest_workflow(LIFECYCLE)
    assert newest is not None and f"Registered (lifecycle version {newest.version})" in body
    assert "Received" in body and "by tess" in body and "received at reception" in body


def test_unknown_sample_pages_are_404_and_strangers_go_to_the_login(lab, client, signed_in):
    assert client.get("/scan/").status_code == 302
    client = signed_in(lab.technician)
    assert client.get("/samples/S-000999/").status_code == 404
    assert client.post("/samples/S-000999/receive/").status_code == 404
