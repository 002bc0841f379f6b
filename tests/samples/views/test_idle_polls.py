"""Background polls are served but never push the end of the session (COMPLIANCE.md C14): a page
that refreshes itself every two seconds must not keep an unattended session alive. Once the
session has ended, htmx is sent to the sign-in page as a page, never a sign-in form in a card."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from tests.processes import REPO

CARD = "/samples/S-000201/card/"
PAGE = "/samples/S-000201/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": f"http://testserver{PAGE}"}
POLL = {**HTMX, "HTTP_LABTRACK_POLL": "1"}
MARKER = """hx-headers='{"LabTrack-Poll": "1"}'"""


@pytest.fixture
def registered(lab):
    return lab.register("S-000201")


def session_end(client) -> object:
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_poll_does_not_move_the_end_of_the_session(lab, registered, signed_in):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(lab.technician)
        end = session_end(client)
        clock.shift(timedelta(minutes=10))
        response = client.get(CARD, **POLL)
        assert response.status_code == 200
        assert "S-000201" in response.content.decode()
        assert settings.SESSION_COOKIE_NAME not in response.cookies
        assert session_end(client) == end


def test_a_request_of_the_user_moves_the_end_of_the_session(lab, registered, signed_in):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(lab.technician)
        clock.shift(timedelta(minutes=10))
        response = client.get(PAGE)
        assert response.status_code == 200
        assert settings.SESSION_COOKIE_NAME in response.cookies
        assert session_end(client) == timezone.now() + timedelta(minutes=15)


def test_the_same_fragment_fetched_without_the_poll_marker_counts_as_activity(
    lab, registered, signed_in
):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(lab.technician)
        clock.shift(timedelta(minutes=10))
        assert client.get(CARD, **HTMX).status_code == 200
        assert session_end(client) == timezone.now() + timedelta(minutes=15)


def test_an_action_posted_from_inside_a_polling_card_moves_the_end(lab, registered, signed_in):
    """htmx hands the card's poll header down to its forms; a POST is a person's action all the
    same."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(lab.technician)
        clock.shift(timedelta(minutes=10))
        response = client.post("/samples/S-000201/receive/", {"condition": "acceptable"}, **POLL)
        assert response.status_code == 200
        assert session_end(client) == timezone.now() + timedelta(minutes=15)


def test_polls_alone_do_not_keep_a_session_alive(lab, registered, signed_in):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(lab.technician)
        assert client.get(PAGE).status_code == 200
        for _ in range(7):  # a poll every two minutes for fourteen minutes: all served
            clock.shift(timedelta(minutes=2))
            assert client.get(CARD, **POLL).status_code == 200
        clock.shift(timedelta(minutes=2))
        response = client.get(CARD, **POLL)
    assert response.status_code == 204
    assert response.content == b""  # nothing for htmx to swap into the card
    assert response["HX-Redirect"] == "/accounts/login/?next=/samples/S-000201/"
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 0  # cookie dropped
    sign_in_page = client.get(response["HX-Redirect"])
    assert sign_in_page.status_code == 200
    assert "Signed out after 15 minutes without activity." in sign_in_page.content.decode()
    assert client.get(PAGE).status_code == 302


def test_an_htmx_action_after_the_end_is_sent_to_sign_in_as_a_page(lab, registered, signed_in):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(lab.technician)
        clock.shift(timedelta(minutes=16))
        response = client.post("/samples/S-000201/receive/", {"condition": "acceptable"}, **HTMX)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=/samples/S-000201/"
    lab.env.run_until_idle()
    assert lab.state("S-000201") == "registered"


def test_a_poll_without_any_session_is_sent_to_sign_in(lab, registered, client):
    response = client.get(CARD, **POLL)
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=/samples/S-000201/"
    sign_in_page = client.get(response["HX-Redirect"]).content.decode()
    assert "Signed out after" not in sign_in_page  # it had never been signed in


def test_a_page_from_another_site_is_not_used_as_next(lab, registered, client):
    response = client.get(CARD, **{**POLL, "HTTP_HX_CURRENT_URL": "https://evil.example/x"})
    assert response["HX-Redirect"] == "/accounts/login/?next=/"


def polling_tags() -> list[tuple[str, str]]:
    tag = re.compile(r"""<[a-z]+\b(?:[^>"']|"[^"]*"|'[^']*')*>""")
    found = []
    for path in sorted((REPO / "templates").rglob("*.html")):
        for match in tag.finditer(path.read_text()):
            if 'hx-trigger="every' in match.group(0):
                found.append((path.name, match.group(0)))
    return found


def test_every_polling_element_marks_its_requests_as_polls():
    tags = polling_tags()
    assert {name for name, _ in tags} >= {"_card.html", "_run_live.html"}
    for name, tag in tags:
        assert MARKER in tag, f"{name}: a polling element without the poll header: {tag}"
