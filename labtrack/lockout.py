"""Account lockout (COMPLIANCE.md C14): what a person sees when too many wrong passwords, typed
at sign-in or when signing a result, lock their account.

- ``lockout_response``: the ``AXES_LOCKOUT_CALLABLE``. A person still signed in (the lock came
  from a signing password) is signed out at once, so a locked account cannot go on acting in an
  open session. The answer is the "Account locked" page (HTTP 429); an htmx request is sent to
  that page with ``HX-Redirect`` instead of having it swapped into a fragment.
- ``locked``: the "Account locked" page itself, where that redirect lands.

The page says for how long the lock holds (``LOGIN_LOCKOUT_MINUTES``) and that an administrator
can lift it earlier. The count of wrong passwords itself is kept by django-axes, per account and
address; ``AccountGuardHandler`` adds the per-account guard against guesses from many addresses.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.auth import logout as auth_logout
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

TEMPLATE = "registration/locked_out.html"


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, object] | None = None,
) -> HttpResponse:
    signed_out = request.user.is_authenticated
    if signed_out:
        auth_logout(request)
    if request.headers.get("HX-Request") == "true":
        redirected = HttpResponse(status=204)
        page = reverse("account_locked")
        redirected["HX-Redirect"] = f"{page}?signed_out=1" if signed_out else page
        return redirected
    return render(request, TEMPLATE, {"signed_out": signed_out}, status=429)


def locked(request: HttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, {"signed_out": request.GET.get("signed_out") == "1"})


class AccountGuardHandler(AxesDatabaseHandler):
    """django-axes' database handler with a second, per-account guard (docs/accounts.md).

    The lock itself is per account and address (``AXES_LOCKOUT_PARAMETERS``): wrong passwords
    typed for a reviewer at one place lock that account at that place only, so nobody can lock
    everyone out by typing their names. Against guesses spread over many addresses, once an
    account has ``LOGIN_ACCOUNT_FAILURE_LIMIT`` wrong passwords from all addresses together
    within ``LOGIN_LOCKOUT_MINUTES``, it can be signed in to only from an address where it
    signed in successfully within ``LOGIN_USUAL_PLACE_DAYS``: its owner at their usual bench
    goes on working, a guesser elsewhere is refused even with the right password."""

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        username = get_client_username(request, credentials)
        if not username:
            return False
        if account_under_attack(request, username) and not usual_place(
            username, request.axes_ip_address
        ):
            # Answered with the "Account locked" page, not as a wrong password: whoever is
            # there learns nothing about the password, and the owner knows why.
            request.axes_locked_out = True
            return True
        return False


def account_failures(request: Any, username: str) -> int:
    """Wrong passwords for this account from every address within the lockout window."""
    recent = AccessAttempt.objects.filter(
        username=username, attempt_time__gt=get_cool_off_threshold(request)
    )
    return recent.aggregate(total=Sum("failures_since_start"))["total"] or 0


def account_under_attack(request: Any, username: str) -> bool:
    return account_failures(request, username) >= settings.LOGIN_ACCOUNT_FAILURE_LIMIT


def usual_place(username: str, address: str | None) -> bool:
    """The account signed in successfully from this address recently."""
    if not address:
        return False
    since = timezone.now() - timedelta(days=settings.LOGIN_USUAL_PLACE_DAYS)
    return AccessLog.objects.filter(
        username=username, ip_address=address, attempt_time__gte=since
    ).exists()
