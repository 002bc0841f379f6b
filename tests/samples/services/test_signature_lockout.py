"""Wrong signing passwords count toward the account lockout (COMPLIANCE.md C11, C14): the
reviewer is warned before the last attempt, the lockout ends the session and says the account
is locked, and a locked account is told so, never "wrong password". The lockout holds for the
account from one address: wrong passwords typed for a reviewer elsewhere do not stop them
signing (tests/samples/views/test_login_lockout.py for the sign-in side)."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from samples.models import Signature
from tests.cast import PASSWORD

WARNING = "One attempt left: a wrong password now locks your account for 30 minutes."


def resulted(lab, barcode="S-000951"):
    lab.register(barcode)
    lab.receive(barcode)
    lab.analyse(barcode, "5.0")
    return barcode


def sign(client, password, follow=False, **headers):
    """Sign S-000951 as from the page without script (following the answer, as a browser does,
    when ``follow``) or with htmx (``HX-Request``)."""
    return client.post(
        "/review/sign/",
        {"barcode": ["S-000951"], "username": "ravi", "password": password},
        headers=headers,
        follow=follow,
    )


def test_the_attempt_before_the_last_is_warned_on_the_answer_and_on_the_page(lab, signed_in):
    assert settings.AXES_FAILURE_LIMIT == 5
    resulted(lab)
    client = signed_in(lab.reviewer)
    for _ in range(3):
        answer = sign(client, "wrong", follow=True)
        assert "Wrong user id or password" in answer.content.decode()
        assert WARNING not in answer.content.decode()
    fourth = sign(client, "wrong", **{"HX-Request": "true"}).content.decode()
    assert "Wrong user id or password: the signature was not applied." in fourth
    assert fourth.count(WARNING) == 1
    assert WARNING in client.get("/review/").content.decode()  # still there when it is reloaded


def test_the_fifth_wrong_password_ends_the_session_and_says_the_account_is_locked(lab, signed_in):
    resulted(lab)
    client = signed_in(lab.reviewer)
    for _ in range(4):
        sign(client, "wrong", follow=True)
    locked = sign(client, "wrong")
    body = locked.content.decode()
    assert locked.status_code == 429
    assert "Account locked" in body and "You have been signed out" in body
    assert "locked for 30 minutes" in body and "An administrator can unlock it" in body
    assert "Wrong" not in body
    assert "_auth_user_id" not in client.session
    assert client.get("/review/")["Location"].startswith("/accounts/login/")
    assert sign(client, PASSWORD)["Location"].startswith("/accounts/login/")
    assert not Signature.objects.exists()


def test_from_the_page_the_lockout_sends_the_browser_to_the_locked_page(lab, signed_in):
    resulted(lab)
    client = signed_in(lab.reviewer)
    for _ in range(4):
        sign(client, "wrong")
    locked = sign(client, "wrong", **{"HX-Request": "true"})
    assert locked["HX-Redirect"] == "/accounts/locked/?signed_out=1"
    assert "_auth_user_id" not in client.session
    page = client.get(locked["HX-Redirect"]).content.decode()
    assert "Account locked" in page and "You have been signed out" in page


def test_locked_from_this_address_a_reviewer_signed_in_is_told_locked_even_for_the_right_password(
    lab, signed_in
):
    resulted(lab)
    at_the_bench = signed_in(lab.reviewer)
    same_address = Client()  # the same bench tablet (the test client's 127.0.0.1)
    for _ in range(5):
        same_address.post("/accounts/login/", {"username": "ravi", "password": "wrong"})
    answer = sign(at_the_bench, PASSWORD)
    body = answer.content.decode()
    assert answer.status_code == 429 and "Account locked" in body
    assert "Wrong" not in body
    assert "_auth_user_id" not in at_the_bench.session
    assert not Signature.objects.exists()


def test_the_right_signing_password_resets_the_count_as_a_sign_in_does(lab, signed_in):
    resulted(lab)
    resulted(lab, "S-000952")
    client = signed_in(lab.reviewer)
    for _ in range(4):
        sign(client, "wrong", follow=True)
    client.post(
        "/review/sign/",
        {"barcode": ["S-000952"], "username": "ravi", "password": PASSWORD},
        follow=True,
    )
    assert Signature.objects.get().sample.barcode == "S-000952"
    for _ in range(3):
        sign(client, "wrong", follow=True)
    assert WARNING not in client.get("/review/").content.decode()
    assert "_auth_user_id" in client.session


def test_the_sign_in_page_warns_before_the_last_attempt(client, reviewer):
    for _ in range(3):
        page = client.post("/accounts/login/", {"username": "ravi", "password": "wrong"})
        assert b"One attempt left" not in page.content
    page = client.post("/accounts/login/", {"username": "ravi", "password": "wrong"})
    assert b"One attempt left: a wrong password now locks this account" in page.content


def test_wrong_passwords_for_a_reviewer_from_another_address_do_not_stop_them_signing(
    lab, signed_in
):
    resulted(lab)
    at_the_bench = signed_in(lab.reviewer)
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(12):
        attacker.post("/accounts/login/", {"username": "ravi", "password": "wrong"})
    answer = sign(at_the_bench, PASSWORD, follow=True)
    assert "S-000951 reviewed and released by Ravi" in answer.content.decode()
    assert "_auth_user_id" in at_the_bench.session
    assert Signature.objects.get().signer == lab.reviewer
