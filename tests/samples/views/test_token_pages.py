"""API tokens in the browser: administrators only; a new token is shown once; revoking works."""

from __future__ import annotations

from knox.models import AuthToken


def test_an_administrator_creates_a_token_that_is_shown_once(lab, administrator, signed_in):
    client = signed_in(administrator)
    page = client.post(
        "/tokens/new/", {"owner": "instrument:Cobas-1", "replace": "yes"}, follow=True
    )
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


def test_the_form_names_no_owner_until_one_is_chosen(lab, administrator, signed_in):
    client = signed_in(administrator)
    html = client.get("/tokens/").content.decode()
    first = html.split('<select name="owner" required>')[1].split("</option>")[0]
    assert '<option value="">Choose' in first  # no instrument is picked by default
    before = set(AuthToken.objects.values_list("digest", flat=True))
    refused = client.post("/tokens/new/", {"owner": ""})
    assert refused.status_code == 400
    assert "Choose the instrument or user the token is for." in refused.content.decode()
    assert set(AuthToken.objects.values_list("digest", flat=True)) == before


def test_replacing_a_token_needs_the_box_ticked(lab, administrator, signed_in):
    client = signed_in(administrator)
    AuthToken.objects.filter(user=lab.instrument.service_user).delete()
    client.post("/tokens/new/", {"owner": "instrument:Cobas-1"})  # none yet: no box needed
    first = AuthToken.objects.get(user=lab.instrument.service_user).digest
    assert "instrument Cobas-1 (has a token)" in client.get("/tokens/").content.decode()

    refused = client.post("/tokens/new/", {"owner": "instrument:Cobas-1"})
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "already has a token" in body and "nothing was changed" in body
    assert '<option value="instrument:Cobas-1" selected>' in body  # the choice is kept
    assert AuthToken.objects.get(user=lab.instrument.service_user).digest == first

    client.post("/tokens/new/", {"owner": "instrument:Cobas-1", "replace": "yes"})
    assert AuthToken.objects.get(user=lab.instrument.service_user).digest != first
