"""API tokens in the browser: administrators only; a new token is shown once; revoking works."""

from __future__ import annotations

from knox.models import AuthToken


def test_an_administrator_creates_a_token_that_is_shown_once(lab, administrator, signed_in):
    client = signed_in(administrator)
    page = client.post("/tokens/new/", {"owner": "instrument:Cobas-1"}, follow=True)
    body = page.content.decode()
    token = body.split('<pre class="token">')[1].split("</pre>")[0]
    stored = AuthToken.objects.get(user=lab.instrument.service_user)
    assert token.startswith(stored.token_key) and token != stored.digest
    assert token not in client.get("/tokens/").content.decode()  # only the once


def test_revoking_from_the_page_and_refusals(lab, administrator, signed_in):
    client = signed_in(administrator)
    client.post("/tokens/new/", {"owner": "user:tess"})
    key = AuthToken.objects.get(user=lab.technician).token_key
    done = client.post("/tokens/revoke/", {"key": key}, follow=True)
    assert "The token of tess is revoked." in done.content.decode()
    assert not AuthToken.objects.filter(user=lab.technician).exists()
    refused = client.post("/tokens/new/", {"owner": "user:nobody"}, follow=True)
    assert "no active user" in refused.content.decode()


def test_only_administrators_see_tokens(lab, signed_in):
    client = signed_in(lab.technician)
    assert client.get("/tokens/").status_code == 403
    assert client.post("/tokens/new/", {"owner": "user:tess"}).status_code == 403
    assert not AuthToken.objects.filter(user=lab.technician).exists()
