"""21 CFR 11.200(a)(1): the first e-signature of a session takes both components, the user id and
the password; later signatures in the same continuous session take the password alone; a new
sign-in starts again with both. A wrong or missing user id is refused exactly like a wrong
password and counts toward the lockout of the account signed in, never of the name typed."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.test import Client

from samples.models import Signature
from samples.roles import Role
from tests.cast import PASSWORD

REFUSED = "Wrong user id or password: the signature was not applied."


def resulted(lab, *barcodes):
    for barcode in barcodes:
        lab.register(barcode)
        lab.receive(barcode)
        lab.analyse(barcode, "5.0")


def sign(client, barcode, **fields):
    return client.post("/review/sign/", {"barcode": [barcode], **fields}, follow=True)


def signed() -> list[str]:
    return list(Signature.objects.values_list("sample__barcode", flat=True))


def test_the_first_signature_of_a_session_asks_for_the_user_id_and_the_password(lab, signed_in):
    resulted(lab, "S-000971")
    page = signed_in(lab.reviewer).get("/review/").content.decode()
    assert 'name="username" autocomplete="username"' in page
    assert 'name="password" autocomplete="current-password"' in page


def test_the_password_alone_does_not_sign_first(lab, signed_in):
    resulted(lab, "S-000971")
    client = signed_in(lab.reviewer)
    answer = sign(client, "S-000971", password=PASSWORD)
    assert REFUSED in answer.content.decode()
    assert signed() == []
    assert AccessAttempt.objects.get(username="ravi").failures_since_start == 1


def test_a_wrong_user_id_with_the_right_password_is_refused_like_a_wrong_password(
    lab, signed_in, make_user
):
    resulted(lab, "S-000971")
    make_user("rita", Role.REVIEWER)
    client = signed_in(lab.reviewer)
    for typed in ("rita", "Ravi", "ravi2"):  # a colleague's id, another case, a typo
        answer = sign(client, "S-000971", username=typed, password=PASSWORD)
        assert REFUSED in answer.content.decode()
    wrong_password = sign(client, "S-000971", username="ravi", password="nope")
    assert REFUSED in wrong_password.content.decode()  # the same words: nothing is given away
    assert signed() == []
    # Counted against the account signed in, and never against the colleague named.
    assert AccessAttempt.objects.get(username="ravi").failures_since_start == 4
    assert not AccessAttempt.objects.filter(username="rita").exists()


def test_wrong_user_ids_lock_the_account_like_wrong_passwords(lab, signed_in):
    resulted(lab, "S-000971")
    client = signed_in(lab.reviewer)
    for _ in range(4):
        sign(client, "S-000971", username="nobody", password=PASSWORD)
    locked = client.post(
        "/review/sign/", {"barcode": ["S-000971"], "username": "nobody", "password": PASSWORD}
    )
    assert locked.status_code == 429 and "Account locked" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert signed() == []


def test_later_signatures_of_the_same_session_take_the_password_alone(lab, signed_in):
    resulted(lab, "S-000971", "S-000972", "S-000973")
    client = signed_in(lab.reviewer)
    first = sign(client, "S-000971", username="ravi", password=PASSWORD)
    assert "S-000971 reviewed and released by Ravi" in first.content.decode()
    page = client.get("/review/").content.decode()
    assert 'name="username"' not in page and 'name="password"' in page
    second = sign(client, "S-000972", password=PASSWORD)
    assert "S-000972 reviewed and released by Ravi" in second.content.decode()
    wrong = sign(client, "S-000973", password="nope")
    assert "Wrong password: the signature was not applied." in wrong.content.decode()
    assert sorted(signed()) == ["S-000971", "S-000972"]


def test_a_new_sign_in_asks_for_both_components_again(lab, signed_in):
    resulted(lab, "S-000971", "S-000972")
    client = signed_in(lab.reviewer)
    sign(client, "S-000971", username="ravi", password=PASSWORD)
    client.post("/accounts/logout/")
    signed_in(lab.reviewer)
    assert 'name="username"' in client.get("/review/").content.decode()
    answer = sign(client, "S-000972", password=PASSWORD)
    assert REFUSED in answer.content.decode()
    assert signed() == ["S-000971"]


def test_one_reviewers_first_signature_does_not_carry_over_to_another_browser(lab, signed_in):
    resulted(lab, "S-000971", "S-000972")
    sign(signed_in(lab.reviewer), "S-000971", username="ravi", password=PASSWORD)
    other_browser = Client()
    other_browser.post("/accounts/login/", {"username": "ravi", "password": PASSWORD})
    assert 'name="username"' in other_browser.get("/review/").content.decode()
    answer = sign(other_browser, "S-000972", password=PASSWORD)
    assert REFUSED in answer.content.decode()
