"""Who is signing, checked at signing time (21 CFR 11.200(a)(1); COMPLIANCE.md C11, C14).

Both components, the user id and the password, are asked for at the first signing of a
continuous session (§11.200(a)(1)(i)); later signings in the same session ask for the password
only (§11.200(a)(1)(ii)). The session remembers that the first signing was made
(``IDENTIFIED``); signing in again (after signing out or an idle logout) starts a new session,
which asks for both again.

A wrong user id is refused exactly as a wrong password is, with the same words, and counts as a
failed attempt of the signed-in account from this address. The password is checked through the
authentication backends, so a wrong one counts toward the account lockout as a failed sign-in
does. Only the person signed in can sign for themselves, so only they can run their signing
lockout; and the lockout is kept per account and address (``AXES_LOCKOUT_PARAMETERS``), so
another person's wrong passwords elsewhere cannot lock a reviewer out of signing.

The reviewer is warned when one attempt is left; a locked account is told it is locked, never
"wrong password" (the lockout response, ``AXES_LOCKOUT_CALLABLE``, then ends the session). A
correct signing resets the count of this account from this address, as a successful sign-in
does.

Nothing here signs: ``samples.services.results`` does, after this check has passed.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import authenticate, user_login_failed
from django.http import HttpRequest

from samples.errors import LabError

# Session key: the id of the user who gave both components at a signing in this session.
IDENTIFIED = "signing_identified_user"


class AccountLocked(LabError):
    """Too many wrong passwords: the account is locked and the signature was not applied."""


def lockout_minutes() -> int:
    return round(settings.AXES_COOLOFF_TIME * 60)


def locked_message() -> str:
    return (
        f"Your account is locked after {settings.AXES_FAILURE_LIMIT} wrong passwords: nothing "
        f"was signed. Try again after {lockout_minutes()} minutes, or ask an administrator to "
        "unlock it."
    )


def last_attempt_warning() -> str:
    return (
        "One attempt left: a wrong password now locks your account for "
        f"{lockout_minutes()} minutes."
    )


def attempts_left(request: HttpRequest, user: Any) -> int:
    """Wrong passwords this user may still type here before the account locks (0: locked)."""
    failures = AxesProxyHandler.get_failures(request, {"username": user.get_username()})
    return max(settings.AXES_FAILURE_LIMIT - failures, 0)


def user_id_needed(request: HttpRequest | None, user: Any) -> bool:
    """True until this user has signed once in this session with both components."""
    if request is None or not hasattr(request, "session"):
        return False
    return request.session.get(IDENTIFIED) != user.pk


def forget_signing_identity(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """A sign-in starts a new continuous session: its first signing asks for both components.
    (Connected to ``user_logged_in``; signing out ends the session and its memory anyway.)"""
    if request is not None and hasattr(request, "session"):
        request.session.pop(IDENTIFIED, None)


def signer_check(
    *, user: Any, password: str, request: HttpRequest | None, username: str | None = None
) -> None:
    """Raise ``LabError`` for a wrong user id or password (with a warning when one attempt is
    left) and ``AccountLocked`` for a locked account; return quietly when the signer is who
    they say. Without a request (a command, the demo data) the password alone is checked."""
    if request is None:
        if not (password and user.check_password(password)):
            raise LabError("Wrong password: the signature was not applied.", field="password")
        return
    both = user_id_needed(request, user)
    if both and (username or "").strip() != user.get_username():
        if attempts_left(request, user) == 0:
            raise AccountLocked(locked_message())
        # Counted as a failed attempt of the account signed in (never of the name typed).
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        _refuse(request, user, both=True)
    signed = authenticate(request, username=user.get_username(), password=password or "")
    if signed is not None and signed.pk == user.pk:
        AxesProxyHandler.reset_attempts(
            ip_address=get_client_ip_address(request), username=user.get_username()
        )
        request.session[IDENTIFIED] = user.pk
        return
    _refuse(request, user, both=both)


def _refuse(request: HttpRequest, user: Any, *, both: bool) -> None:
    # A locked account is refused by the backend before its password is looked at: the
    # refusal must say so, whatever was typed.
    left = attempts_left(request, user)
    if getattr(request, "axes_locked_out", False) or left == 0:
        raise AccountLocked(locked_message())
    what = "user id or password" if both else "password"
    message = f"Wrong {what}: the signature was not applied."
    if left == 1:
        message = f"{message} {last_attempt_warning()}"
    raise LabError(message, field="username" if both else "password")
