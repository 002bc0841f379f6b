"""The signer's password at signing time (COMPLIANCE.md C11, C14).

The password is checked through the authentication backends, so a wrong one counts toward the
account lockout exactly as a failed sign-in does. The reviewer is warned when one attempt is
left; a locked account is told it is locked, never "wrong password" (the lockout response,
``AXES_LOCKOUT_CALLABLE``, then ends the session). A correct password resets the count, as a
successful sign-in does.

Nothing here signs: ``samples.services.results`` does, after this check has passed.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest

from samples.errors import LabError


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
    """Wrong passwords this user may still type before the account locks (0: locked)."""
    failures = AxesProxyHandler.get_failures(request, {"username": user.get_username()})
    return max(settings.AXES_FAILURE_LIMIT - failures, 0)


def signer_password_check(*, user: Any, password: str, request: HttpRequest | None) -> None:
    """Raise ``LabError`` for a wrong password (with a warning when one attempt is left) and
    ``AccountLocked`` for a locked account; return quietly when the signer is who they say."""
    if request is None:  # a command or the demo data, not a person at a screen
        if not (password and user.check_password(password)):
            raise LabError("Wrong password: the signature was not applied.", field="password")
        return
    signed = authenticate(request, username=user.get_username(), password=password or "")
    if signed is not None and signed.pk == user.pk:
        axes_reset(username=user.get_username())
        return
    # A locked account is refused by the backend before its password is looked at: the
    # refusal must say so, whatever was typed.
    left = attempts_left(request, user)
    if getattr(request, "axes_locked_out", False) or left == 0:
        raise AccountLocked(locked_message())
    message = "Wrong password: the signature was not applied."
    if left == 1:
        message = f"{message} {last_attempt_warning()}"
    raise LabError(message, field="password")
