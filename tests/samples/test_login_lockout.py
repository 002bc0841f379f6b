"""Five failed sign-ins lock the account (COMPLIANCE.md C14); the lock is per account."""

import pytest
from django.conf import settings

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
