"""Idle sign-out (COMPLIANCE.md C14): what the pages, the sign-out view and htmx need to end an
unattended session cleanly. The session's own expiry lives in ``labtrack/sessions.py``.

- ``idle_logout``: context processor giving every page the limit (``static/js/idle.js`` reads it
  from ``<body>`` and signs the screen out once it has passed without user input).
- ``SignOutView``: Django's POST-only sign-out; the idle script's sign-out (``reason=idle``)
  lands on the sign-in page saying why, with ``next`` set to the page it left.
- ``activity``: the idle script reports input that made no request (typing, reading), so a
  person working on one page is not signed out by the server.
- ``SignInRedirectMiddleware``: an htmx request whose session has ended gets ``HX-Redirect`` to
  the sign-in page (with the page as ``next``) instead of a sign-in page swapped into a fragment;
  any request whose session ended on its own is told so on the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import LogoutView, redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST


def idle_limit_text(seconds: int | None = None) -> str:
    """The idle limit in words: "15 minutes", "1 minute", "8 seconds"."""
    seconds = settings.IDLE_LOGOUT_SECONDS if seconds is None else seconds
    amount, unit = (seconds // 60, "minute") if seconds % 60 == 0 else (seconds, "second")
    return f"{amount} {unit}{'' if amount == 1 else 's'}"


def idle_message() -> str:
    return f"Signed out after {idle_limit_text()} without activity."


def idle_logout(request: HttpRequest) -> dict[str, object]:
    """Context processor: the idle limit, in seconds for the idle script and in words."""
    return {
        "idle_logout_seconds": settings.IDLE_LOGOUT_SECONDS,
        "idle_logout_limit": idle_limit_text(),
    }


class SignOutView(LogoutView):
    """Sign out (POST only). The idle script posts ``reason=idle`` and the page it leaves as
    ``next``: it works whether or not the server's session has already ended."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if request.POST.get("reason") != "idle":
            return super().post(request, *args, **kwargs)
        back_to = self.get_redirect_url() or resolve_url(settings.LOGIN_REDIRECT_URL)
        auth_logout(request)
        messages.info(request, idle_message())
        return redirect_to_login(back_to)


@require_POST
def activity(request: HttpRequest) -> HttpResponse:
    """The user is at the screen: 204, and the session is saved (pushed ahead) like after any
    request of theirs. 401 once the session has ended, so the script can sign the screen out."""
    return HttpResponse(status=204 if request.user.is_authenticated else 401)


def _is_sign_in_redirect(response: HttpResponseBase) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return urlsplit(response["Location"]).path == resolve_url(settings.LOGIN_URL)


def _page_of(request: HttpRequest) -> str:
    """The page an htmx request came from (its ``HX-Current-URL``), as a local path."""
    current = request.headers.get("HX-Current-URL", "")
    if current and url_has_allowed_host_and_scheme(
        current, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class SignInRedirectMiddleware:
    """Turns "go and sign in" into something htmx follows, and says why a session ended.

    Listed after the message middleware, so the message it adds reaches the sign-in page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not _is_sign_in_redirect(response):
            return response
        # The browser still sent a session cookie, but the session is gone: it ran out. (The
        # sign-out view empties the session itself and says why on its own.)
        if (
            settings.SESSION_COOKIE_NAME in request.COOKIES
            and request.session.is_empty()
            and request.path != reverse("logout")
        ):
            messages.info(request, idle_message())
        if request.headers.get("HX-Request") == "true":
            # An XMLHttpRequest follows a redirect by itself and would swap the sign-in page into
            # the fragment; HX-Redirect makes htmx load it as a page instead.
            redirected = HttpResponse(status=204)
            redirected["HX-Redirect"] = redirect_to_login(_page_of(request))["Location"]
            return redirected
        return response
