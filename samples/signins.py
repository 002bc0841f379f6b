"""Sign-ins in the audit trail: receivers of Django's sign-in signals and of django-axes'
lockout, each keeping a ``SignInEvent`` (``samples.services.accounts``). Connected in
``SamplesConfig.ready``.

A wrong password typed when signing results fails a sign-in too (the signer's password goes
through the same backends, C14): it is kept as such. A lockout is kept once, when the failure
that crosses the limit locks the account, right after that failure; further attempts while it
holds are failures "account locked". Never a password.
"""

from __future__ import annotations

from typing import Any

from axes.helpers import get_client_ip_address, get_failure_limit
from django.http import HttpRequest
from django.urls import reverse

from samples.services.accounts import signin_event_record, signin_failure_reason
from samples.tracking import SignInKind

# The request attribute where the lockout waits for the failure that caused it.
_LOCKOUT = "_labtrack_lockout"
_FAILURE_KEPT = "_labtrack_failure_kept"


def _address(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return getattr(request, "axes_ip_address", None) or get_client_ip_address(request) or ""


def _signing(request: HttpRequest | None) -> bool:
    """A password typed somewhere else than a sign-in page: when signing results."""
    if request is None:
        return False
    return request.path not in (reverse("login"), reverse("admin:login"))


def signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    signin_event_record(
        kind=SignInKind.SUCCESS,
        username=user.get_username(),
        user=user,
        address=_address(request),
    )


def signed_out(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:  # nobody was signed in
        return
    signin_event_record(
        kind=SignInKind.SIGNOUT,
        username=user.get_username(),
        user=user,
        address=_address(request),
    )


def sign_in_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username") or "")
    lockout = getattr(request, _LOCKOUT, None)
    # Locked before this attempt: axes refused it (the lockout that this attempt caused is
    # kept below, after the failure).
    locked = bool(getattr(request, "axes_locked_out", False)) and lockout is None
    user, reason = signin_failure_reason(username, locked=locked, signing=_signing(request))
    address = _address(request)
    signin_event_record(
        kind=SignInKind.FAILURE, username=username, user=user, address=address, reason=reason
    )
    if request is None:
        return
    setattr(request, _FAILURE_KEPT, True)
    if lockout is not None:
        _keep_lockout(username, user, address, lockout)


def locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    """django-axes' ``user_locked_out``: sent when an attempt locks the account, and again for
    each attempt while it is locked (those are failures "account locked", not lockouts)."""
    if request is None:
        return
    failures = getattr(request, "axes_failures_since_start", None)
    credentials = getattr(request, "axes_credentials", None) or {"username": username}
    if failures is None or failures != get_failure_limit(request, credentials):
        return
    if getattr(request, _FAILURE_KEPT, False):  # the failure was kept first: the lockout now
        user, _ = signin_failure_reason(username or "", locked=True, signing=False)
        _keep_lockout(username or "", user, _address(request), failures)
    else:
        setattr(request, _LOCKOUT, failures)


def _keep_lockout(username: str, user: Any, address: str, failures: int) -> None:
    signin_event_record(
        kind=SignInKind.LOCKOUT,
        username=username,
        user=user,
        address=address,
        reason=f"{failures} failed sign-ins",
        failures=failures,
    )
