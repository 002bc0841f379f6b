"""Idle sessions end after IDLE_LOGOUT_MINUTES (default 15); activity keeps them alive."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_the_default_idle_limit_is_fifteen_minutes():
    assert settings.IDLE_LOGOUT_MINUTES == 15
    assert settings.SESSION_COOKIE_AGE == 15 * 60


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
    settings.SESSION_COOKIE_AGE = 5 * 60
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client = signed_in(technician)
        clock.shift(timedelta(minutes=6))
        assert client.get("/").status_code == 302


def test_pages_tell_the_browser_when_to_return_to_the_sign_in_screen(signed_in, technician):
    response = signed_in(technician).get("/")
    assert b'data-idle-seconds="900"' in response.content
