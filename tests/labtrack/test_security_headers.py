"""The browser's side of security: a Content-Security-Policy on every page that allows no inline
script, no eval and no framing; ``Cache-Control: no-store`` on everything a signed-in person or an
API client is answered (pages, fragments, API, exports, PDFs), while static files keep their
caching; and no template left with an inline script, handler or style the policy would refuse."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from samples import services
from samples.roles import Role
from samples.services.tokens import api_token_create
from tests.processes import REPO
from tests.samples.lab import make_assay

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {d.split()[0]: d.partition(" ")[2] for d in policy.split("; ")}


def test_every_page_carries_a_policy_without_inline_script_or_framing(client, signed_in, reviewer):
    signed_out = client.get("/accounts/login/")
    page = signed_in(reviewer).get("/review/")
    for response in (signed_out, page):
        policy = directives(response)
        assert policy["default-src"] == "'self'"
        assert policy["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["style-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["object-src"] == "'none'"
        assert "unsafe" not in response["Content-Security-Policy"]


def test_signed_in_pages_fragments_and_downloads_are_not_stored(signed_in, technician):
    make_assay()
    services.sample_register(
        user=technician,
        barcode="S-000951",
        specimen_type="serum",
        subject_ref="SUBJ-1",
        collected_at=timezone.now() - timedelta(hours=1),
        assays=["GLU"],
    )
    client = signed_in(technician)
    answers = {
        "page": client.get("/samples/"),
        "fragment": client.get("/samples/S-000951/card/", headers={"HX-Request": "true"}),
        "dossier PDF": client.get("/samples/S-000951/custody.pdf"),
        "dossier JSON": client.get("/samples/S-000951/custody.json"),
        "API by session": client.get("/api/v1/samples/"),
    }
    for what, response in answers.items():
        assert response.status_code == 200, what
        assert "no-store" in response["Cache-Control"], what


def test_an_audit_export_is_not_stored(signed_in, compliance_officer):
    response = signed_in(compliance_officer).get("/audit/export.csv")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    b"".join(response.streaming_content)


def test_an_api_client_with_a_token_is_answered_not_to_store(make_user):
    client = make_user("lims-link", Role.TECHNICIAN)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(owner=client)}")
    response = api.get("/api/v1/samples/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_static_files_keep_their_caching(signed_in, technician):
    response = signed_in(technician).get("/static/js/page-actions.js")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    b"".join(response.streaming_content)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "a <script> without src"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an inline event handler (on...=)"),
    (re.compile(r"\shx-on[:-]", re.I), "an hx-on handler (evaluated code)"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style[\s>]", re.I), "a <style> element"),
]


def test_no_template_holds_what_the_policy_refuses():
    found = []
    for template in sorted((REPO / "templates").rglob("*.html")):
        text = template.read_text()
        for pattern, what in INLINE:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{template.relative_to(REPO)}:{line}: {what}")
    assert found == []


def test_another_site_cannot_start_the_audit_export_in_a_signed_in_browser(
    signed_in, compliance_officer
):
    client = signed_in(compliance_officer)
    for site in ("cross-site", "same-site"):
        refused = client.get("/audit/export.json", headers={"Sec-Fetch-Site": site})
        assert refused.status_code == 403
        assert "only from LabTrack's own pages" in refused.content.decode()
    served = client.get("/audit/export.json", headers={"Sec-Fetch-Site": "same-origin"})
    assert served.status_code == 200
    assert b"manifest" in b"".join(served.streaming_content)
