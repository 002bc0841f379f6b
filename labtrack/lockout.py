"""Account lockout (COMPLIANCE.md C14): what a person sees when too many wrong passwords, typed
at sign-in or when signing a result, lock their account.

- ``lockout_response``: the ``AXES_LOCKOUT_CALLABLE``. A person still signed in (the lock came
  from a signing password) is signed out at once, so a locked account cannot go on acting in an
  open session. The answer is the "Account locked" page (HTTP 429); an htmx request is sent to
  that page with ``HX-Redirect`` instead of having it swapped into a fragment.
- ``locked``: the "Account locked" page itself, where that redirect lands.

The page says for how long the lock holds (``LOGIN_LOCKOUT_MINUTES``) and that an administrator
can lift it earlier. The count of wrong passwords itself is kept by django-axes.
"""

from __future__ import annotations

from django.contrib.auth import logout as auth_logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

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
