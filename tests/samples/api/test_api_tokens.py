"""``manage.py api_tokens``: tokens are shown once, stored hashed, one per client, revocable."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed

from samples.api.auth import ClientTokenAuthentication


def run(*args: str) -> str:
    out = StringIO()
    call_command("api_tokens", *args, stdout=out)
    return out.getvalue()


def authenticates(token: str):
    user, _ = ClientTokenAuthentication().authenticate_credentials(token.encode())
    return user


def test_a_token_for_an_instrument_is_shown_once_and_stored_hashed(instrument):
    printed = run("create", "--instrument", "Cobas-1")
    token = printed.strip().splitlines()[-1]
    assert authenticates(token) == instrument.service_user
    stored = AuthToken.objects.get(user=instrument.service_user)
    assert token not in (stored.digest, stored.token_key) and token.startswith(stored.token_key)
    assert f"{stored.token_key}  instrument Cobas-1" in run("list")


def test_a_new_token_replaces_the_old_one_of_the_same_client(technician):
    first = run("create", "--user", "tess").strip().splitlines()[-1]
    second = run("create", "--user", "tess").strip().splitlines()[-1]
    assert AuthToken.objects.filter(user=technician).count() == 1
    with pytest.raises(AuthenticationFailed):
        authenticates(first)
    assert authenticates(second) == technician


def test_revoking_by_key_prefix_ends_the_token(technician):
    token = run("create", "--user", "tess").strip().splitlines()[-1]
    key = AuthToken.objects.get().token_key
    assert "Revoked the token of tess." in run("revoke", key[:8])
    with pytest.raises(AuthenticationFailed):
        authenticates(token)


def test_refusals_are_clear_and_change_nothing(make_user, technician):
    make_user("nobody")
    with pytest.raises(CommandError, match="no active instrument 'Ghost'"):
        run("create", "--instrument", "Ghost")
    with pytest.raises(CommandError, match="nobody has no role"):
        run("create", "--user", "nobody")
    with pytest.raises(CommandError, match="at least the first 6"):
        run("revoke", "abc")
    with pytest.raises(CommandError, match="No token has a key"):
        run("revoke", "zzzzzzzz")
    assert not AuthToken.objects.exists()
