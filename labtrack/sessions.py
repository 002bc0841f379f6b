"""Sessions that end after IDLE_LOGOUT_SECONDS without a request from the user (COMPLIANCE.md C14).

Two pieces, both named in the settings:

- ``SessionStore`` (``SESSION_ENGINE = "labtrack.sessions"``): Django's database sessions, whose
  age is read from ``IDLE_LOGOUT_SECONDS`` each time a session is saved, so a changed limit
  applies at once.
- ``PollAwareSessionMiddleware``, in place of Django's ``SessionMiddleware``: every request the
  user makes saves the session and so pushes its end ``IDLE_LOGOUT_SECONDS`` ahead
  (``SESSION_SAVE_EVERY_REQUEST``), but a background poll is served without saving it or touching
  its cookie. Otherwise a page that refreshes itself every few seconds would keep an unattended
  session alive for ever.

A poll is a GET (or HEAD) carrying the ``LabTrack-Poll: 1`` header, which every polling element
sends (``hx-headers`` beside its ``hx-trigger="every ..."``). Only safe methods count: htmx hands
an element's ``hx-headers`` down to the elements inside it, and a form posted from inside a
polling card is a person's action, which must extend the session. Poll views only read; should
one change the session all the same, the change is not saved and a warning says so.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.sessions.backends import db
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers

logger = logging.getLogger(__name__)

POLL_HEADER = "LabTrack-Poll"


def is_poll(request: HttpRequest) -> bool:
    """True for a background refresh that the user did not ask for (see the module docstring)."""
    return request.method in ("GET", "HEAD") and request.headers.get(POLL_HEADER) == "1"


class SessionStore(db.SessionStore):
    """Database sessions whose age is the idle limit."""

    def get_session_cookie_age(self) -> int:
        return settings.IDLE_LOGOUT_SECONDS


class PollAwareSessionMiddleware(SessionMiddleware):
    """Django's session middleware, except that a poll never saves the session."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        session = getattr(request, "session", None)
        # An ended session (expired, or flushed) is left to Django, which drops its cookie.
        if session is None or not is_poll(request) or session.is_empty():
            return super().process_response(request, response)
        if session.modified:
            logger.warning(
                "The poll %s changed the session; a poll does not save it, so the change is lost",
                request.path,
            )
        if session.accessed:
            patch_vary_headers(response, ("Cookie",))
        return response
