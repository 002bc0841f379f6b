"""Five failed sign-ins lock the account (COMPLIANCE.md C14) at the address they came from: one
person typing a colleague's name cannot lock the colleague out everywhere. Guesses spread over
many addresses close the account to every address but those its owner signs in from; the address
is the one the proxies in front saw, not what a client writes into a header."""

import pytest
from django.conf import settings
from django.test import Client

from tests.cast import PASSWORD

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_wrong_password_shows_an_error_and_does_not_sign_in(client, technician):
    response = _sign_in(client, technician.username, "wrong")
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_the_fifth_failure_locks_the_account_even_for_the_right_password(client, technician):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert _sign_in(client, technician.username, "wrong").status_code == 200
    locked = _sign_in(client, technician.username, "wrong")
    assert locked.status_code == 429
    assert b"Account locked" in locked.content
    again = _sign_in(client, technician.username, PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_locked_account_does_not_lock_out_colleagues_on_the_same_tablet(
    client, technician, second_technician
):
    for _ in range(5):
        _sign_in(client, technician.username, "wrong")
    assert _sign_in(client, second_technician.username, PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(client, technician):
    for _ in range(4):
        _sign_in(client, technician.username, "wrong")
    assert _sign_in(client, technician.username, PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        assert _sign_in(client, technician.username, "wrong").status_code == 200
    assert _sign_in(client, technician.username, PASSWORD).status_code == 302


def from_address(address: str, **extra: str) -> Client:
    return Client(REMOTE_ADDR=address, **extra)


def test_an_attacker_at_one_address_does_not_lock_the_reviewer_out_at_another(reviewer):
    attacker = from_address("10.0.5.66")
    for _ in range(12):
        _sign_in(attacker, reviewer.username, "wrong")
    assert _sign_in(attacker, reviewer.username, PASSWORD).status_code == 429  # locked there
    at_the_bench = from_address("10.0.1.20")
    assert _sign_in(at_the_bench, reviewer.username, PASSWORD).status_code == 302
    assert "_auth_user_id" in at_the_bench.session


def test_the_same_address_is_locked_for_that_account_even_for_the_right_password(reviewer):
    for _ in range(5):
        _sign_in(from_address("10.0.5.66"), reviewer.username, "wrong")  # a fresh browser each
    assert _sign_in(from_address("10.0.5.66"), reviewer.username, PASSWORD).status_code == 429


def test_guesses_spread_over_many_addresses_close_the_account_but_to_its_usual_place(reviewer):
    assert settings.LOGIN_ACCOUNT_FAILURE_LIMIT == 20
    usual = from_address("10.0.1.20")
    assert _sign_in(usual, reviewer.username, PASSWORD).status_code == 302  # signed in here before
    usual.post("/accounts/logout/")
    for botnet in range(5):  # four guesses from each, one short of each address's lock
        for _ in range(4):
            _sign_in(from_address(f"192.0.2.{botnet + 1}"), reviewer.username, "wrong")
    # A new address is refused even with the right password: the guesser may have found it.
    assert _sign_in(from_address("192.0.2.200"), reviewer.username, PASSWORD).status_code == 429
    # The owner at their usual bench goes on working.
    assert _sign_in(usual, reviewer.username, PASSWORD).status_code == 302
    assert "_auth_user_id" in usual.session


def test_fewer_spread_guesses_than_the_account_limit_leave_new_addresses_open(reviewer):
    for botnet in range(4):
        for _ in range(4):
            _sign_in(from_address(f"192.0.2.{botnet + 1}"), reviewer.username, "wrong")
    assert _sign_in(from_address("192.0.2.200"), reviewer.username, PASSWORD).status_code == 302


def test_behind_the_proxy_a_forged_forwarded_header_does_not_escape_the_lock(reviewer, settings):
    """One proxy in front: it connects from 10.0.0.2 and appends the address it saw."""
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(6):  # each time claiming another address in front of the real one
        forged = from_address("10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7")
        _sign_in(forged, reviewer.username, "wrong")
    again = from_address("10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.7")
    assert _sign_in(again, reviewer.username, PASSWORD).status_code == 429
    colleague_bench = from_address("10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert _sign_in(colleague_bench, reviewer.username, PASSWORD).status_code == 302
