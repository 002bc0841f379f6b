"""API tokens: one per instrument or integration client, created and revoked by an
administrator, stored hashed (only a short key prefix is kept readable), shown once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from knox.models import AuthToken

from samples.errors import LabError
from samples.models import Instrument
from samples.roles import user_roles


def api_token_owner(*, instrument: str | None = None, username: str | None = None) -> Any:
    """The account a token is for: an instrument's service identity, or a person's account
    (whose token then carries that person's roles)."""
    if (instrument is None) == (username is None):
        raise LabError("Name either an instrument or a user.")
    if instrument is not None:
        found = Instrument.objects.filter(name=instrument).select_related("service_user").first()
        if found is None or not found.is_active:
            raise LabError(f"There is no active instrument {instrument!r}.", field="instrument")
        return found.service_user
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise LabError(f"There is no active user {username!r}.", field="user")
    if not user_roles(user):
        raise LabError(f"{username} has no role: a token would allow nothing.", field="user")
    return user


@transaction.atomic
def api_token_create(*, owner: Any) -> str:
    """A new token for ``owner``, replacing any it had (one token per client). Returned once."""
    AuthToken.objects.filter(user=owner).delete()
    _, token = AuthToken.objects.create(user=owner, expiry=None)
    return token


def api_token_revoke(*, token_key: str) -> Any:
    """Revoke the token whose key starts with ``token_key`` (as ``api_token_list`` shows it)."""
    key = (token_key or "").strip()
    if len(key) < 6:
        raise LabError("Give at least the first 6 characters of the token's key.")
    matches = list(AuthToken.objects.filter(token_key__startswith=key).select_related("user"))
    if not matches:
        raise LabError(f"No token has a key starting with {key!r}.")
    if len(matches) > 1:
        raise LabError(f"{len(matches)} tokens have keys starting with {key!r}: give more.")
    owner = matches[0].user
    matches[0].delete()
    return owner
