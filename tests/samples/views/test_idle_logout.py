"""Idle sessions end after IDLE_LOGOUT_MINUTES (default 15); activity keeps them alive. The idle
screen signs out by POST and the sign-in page says why (polls: test_idle_polls.py)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from labtrack.idle import idle_limit_text
from tests.cast import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def test_the_default_idle_limit_is_fifteen_minutes():
    assert settings.IDLE_LOGOUT_MINUTES == 15
    assert settings.IDLE_LOGOUT_SECONDS == settings.SESSION_COOKIE_AGE == 15 * 60


def test_an_idle_session_is_signed_out(signed_in, technician):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(technician)
        assert client.get("/").status_code == 200
        clock.shift(timedelta(minutes=16))
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_activity_keeps_the_session_alive(signed_in, technician):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(technician)
        for _ in range(3):
            clock.shift(timedelta(minutes=14))
            assert client.get("/").status_code == 200
        # 42 minutes after sign-in, but never 15 idle: still signed in.


def test_the_idle_limit_is_configurable(signed_in, technician, settings):
    settings.IDLE_LOGOUT_SECONDS = 5 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(technician)
        clock.shift(timedelta(minutes=6))
        assert client.get("/").status_code == 302


def test_pages_tell_the_browser_when_to_return_to_the_sign_in_screen(signed_in, technician):
    response = signed_in(technician).get("/")
    assert b'data-idle-seconds="900"' in response.content


def test_the_limit_can_be_set_in_seconds_and_pages_say_so(signed_in, technician, settings):
    settings.IDLE_LOGOUT_SECONDS = 8
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(technician)
        assert b'data-idle-seconds="8"' in client.get("/").content
        clock.shift(timedelta(seconds=9))
        assert client.get("/").status_code == 302
    assert "Sessions end after 8 seconds without activity." in client.get(LOGIN).content.decode()


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(900, "15 minutes"), (60, "1 minute"), (90, "90 seconds"), (1, "1 second")],
)
def test_the_limit_is_put_in_words(seconds, words):
    assert idle_limit_text(seconds) == words


def csrf_client_signed_in(user) -> tuple[Client, str]:
    """A browser-like client (CSRF checked) signed in on the sample page, and that page's token."""
    client = Client(enforce_csrf_checks=True)
    form = client.get(LOGIN).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    credentials = {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token}
    assert client.post(LOGIN, credentials).status_code == 302
    page = client.get("/samples/")
    assert page.status_code == 200
    return client, re.search(r'"X-CSRFToken": "([^"]+)"', page.content.decode()).group(1)


def idle_sign_out(client: Client, token: str):
    return client.post(
        "/accounts/logout/",
        {"csrfmiddlewaretoken": token, "reason": "idle", "next": "/samples/?state=received"},
    )


def test_the_idle_screen_signs_out_by_post_and_the_sign_in_page_says_why(technician):
    client, token = csrf_client_signed_in(technician)
    response = idle_sign_out(client, token)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?next=/samples/%3Fstate%3Dreceived"
    page = client.get(response["Location"]).content.decode()
    assert "Signed out after 15 minutes without activity." in page
    assert client.get("/samples/").status_code == 302  # signed out


def test_the_idle_sign_out_works_after_the_session_has_already_ended(technician):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client, token = csrf_client_signed_in(technician)
        clock.shift(timedelta(minutes=20))
        response = idle_sign_out(client, token)
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")
        page = client.get(response["Location"])
    assert page.status_code == 200
    assert page.content.decode().count("Signed out after 15 minutes without activity.") == 1


def test_a_sign_out_elsewhere_is_not_followed(technician):
    client, token = csrf_client_signed_in(technician)
    response = client.post(
        "/accounts/logout/",
        {"csrfmiddlewaretoken": token, "reason": "idle", "next": "https://evil.example/"},
    )
    assert response["Location"] == f"{LOGIN}?next=/"


def test_signing_out_by_hand_says_nothing_about_idleness(technician):
    client, token = csrf_client_signed_in(technician)
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert response["Location"] == LOGIN
    assert "Signed out after" not in client.get(LOGIN).content.decode()


def test_a_page_opened_after_the_end_says_the_session_ran_out(signed_in, technician):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client = signed_in(technician)
        clock.shift(timedelta(minutes=16))
        response = client.get("/samples/")
        assert response["Location"] == f"{LOGIN}?next=/samples/"
        page = client.get(response["Location"]).content.decode()
    assert "Signed out after 15 minutes without activity." in page


def test_reported_activity_moves_the_end_of_the_session(technician):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client, token = csrf_client_signed_in(technician)
        clock.shift(timedelta(minutes=10))
        response = client.post("/accounts/activity/", HTTP_X_CSRFTOKEN=token)
        assert response.status_code == 204
        end = Session.objects.get(session_key=client.session.session_key).expire_date
        assert end == timezone.now() + timedelta(minutes=15)
        clock.shift(timedelta(minutes=10))  # 20 minutes after the page, 10 after the report
        assert client.get("/samples/").status_code == 200


def test_activity_after_the_end_is_refused_with_401(technician):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client, token = csrf_client_signed_in(technician)
        clock.shift(timedelta(minutes=16))
        assert client.post("/accounts/activity/", HTTP_X_CSRFTOKEN=token).status_code == 401
        assert client.get("/samples/").status_code == 302  # and it did not revive the session


def test_activity_is_reported_by_post_only(signed_in, technician):
    assert signed_in(technician).get("/accounts/activity/").status_code == 405
