"""Accounts in the audit trail: sign-ins, failed sign-ins, lockouts and sign-outs
(``SignInEvent``), and the rule that a person's username is never an instrument's name.

Changes of accounts themselves (superuser flag, password, roles, tokens) are written by the
database's triggers (``samples.tracking``); nothing here writes those.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from samples.errors import LabError
from samples.models import Instrument
from samples.tracking import SignInEvent, SignInKind

# Why a sign-in failed, as the trail says it.
WRONG_PASSWORD = "wrong password"
WRONG_SIGNING_PASSWORD = "wrong password when signing"
NO_ACCOUNT = "no such account"
DEACTIVATED = "account deactivated"
LOCKED = "account locked"


def _clean(text: Any, length: int) -> str:
    """What was typed, fit for a text column: no NUL, no longer than the column."""
    return str(text or "").replace("\x00", "")[:length]


def signin_event_record(
    *,
    kind: SignInKind,
    username: str,
    user: Any = None,
    address: str = "",
    reason: str = "",
    failures: int | None = None,
) -> SignInEvent:
    """Keep one sign-in event; the database sets its time and its place in the chain."""
    return SignInEvent.objects.create(
        pgh_label=kind,
        username=_clean(username, 150),
        user=user if user is not None and user.pk else None,
        address=_clean(address, 64),
        reason=_clean(reason, 200),
        failures=failures,
    )


def signin_failure_reason(username: str, *, locked: bool, signing: bool) -> tuple[Any, str]:
    """The account a failed sign-in named (if any) and why it failed."""
    user = get_user_model().objects.filter(username=_clean(username, 150)).first()
    if locked:
        return user, LOCKED
    if user is None:
        return None, NO_ACCOUNT
    if not user.is_active:
        return user, DEACTIVATED
    return user, WRONG_SIGNING_PASSWORD if signing else WRONG_PASSWORD


def username_check(username: str, *, user: Any = None) -> None:
    """Refuse a person's username that is an instrument's name (case-insensitive): the trail
    and the pages would name both alike. An instrument's own service identity is exempt."""
    clash = Instrument.objects.filter(name__iexact=(username or "").strip())
    if user is not None and user.pk:
        clash = clash.exclude(service_user_id=user.pk)
    if clash.exists():
        raise LabError(
            f"{username!r} is the name of an instrument: choose another username, so that the "
            "audit trail never confuses a person with an instrument.",
            field="username",
        )


def instrument_name_check(name: str, *, instrument: Any = None) -> None:
    """Refuse an instrument's name that is a person's username (case-insensitive)."""
    clash = get_user_model().objects.filter(username__iexact=(name or "").strip())
    if instrument is not None and instrument.service_user_id:
        clash = clash.exclude(pk=instrument.service_user_id)
    if clash.exists():
        raise LabError(
            f"{name!r} is the username of an account: choose another name, so that the audit "
            "trail never confuses an instrument with a person.",
            field="name",
        )
