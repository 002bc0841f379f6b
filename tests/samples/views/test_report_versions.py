"""Every report of a sample, on its page and over the API: the original and each corrected one,
each at its own address, the newest at ``report.pdf``; a sample corrected after release shows
as waiting for review on its card, the worklist and the review page, and the reviewer signs it
there as any other."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from samples import services
from samples.models import Report, Result
from samples.roles import Role
from tests.cast import PASSWORD
from tests.pdf import pdf_text
from tests.samples.lab import api_for

AWAITING = "Corrected after release: awaiting review"


@pytest.fixture
def corrected(lab):
    """S-000821 released with 7.2 mmol/L, corrected to 5.1 and signed again: reports 1 and 2."""
    lab.register("S-000821")
    lab.receive("S-000821")
    lab.analyse("S-000821", "7.2")
    lab.verify("S-000821")
    amend(lab, "5.1")
    lab.verify("S-000821")
    assert Report.objects.filter(sample__barcode="S-000821").count() == 2
    return "S-000821"


def client_of(user) -> Client:
    """A browser of its own, signed in as ``user`` through the sign-in form."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def amend(lab, value: str) -> None:
    result = Result.objects.get(sample__barcode="S-000821")
    services.result_amend(
        user=lab.technician, result_id=result.pk, value=value, reason="transcription error"
    )
    lab.env.run_until_idle()


def test_the_sample_page_lists_every_report_with_its_own_address(lab, corrected, signed_in):
    page = " ".join(
        signed_in(lab.technician).get(f"/samples/{corrected}/").content.decode().split()
    )
    first, second = Report.objects.filter(sample__barcode=corrected).order_by("number")
    assert f'<a href="/samples/{corrected}/reports/1.pdf">Report 1</a>' in page
    assert f'<a href="/samples/{corrected}/reports/2.pdf">Corrected report 2</a>' in page
    assert 'replaced by <a href="#report-2">report 2</a>' in page
    assert 'replaces <a href="#report-1">report 1</a>' in page
    assert first.sha256 in page and second.sha256 in page
    assert "Corrected report 2 released, replaces report 1" in page  # the timeline


def test_each_version_is_served_as_stored_and_report_pdf_serves_the_newest(
    lab, corrected, signed_in
):
    client = signed_in(lab.technician)
    stored = {r.number: bytes(r.pdf) for r in Report.objects.filter(sample__barcode=corrected)}
    one = client.get(f"/samples/{corrected}/reports/1.pdf")
    two = client.get(f"/samples/{corrected}/reports/2.pdf")
    newest = client.get(f"/samples/{corrected}/report.pdf")
    assert (one.status_code, two.status_code, newest.status_code) == (200, 200, 200)
    assert one.content == stored[1] and two.content == stored[2] and newest.content == stored[2]
    assert two["Content-Disposition"] == f'attachment; filename="labtrack-{corrected}-report-2.pdf"'
    assert "CORRECTED REPORT" not in pdf_text(one.content)
    assert "CORRECTED REPORT" in pdf_text(two.content)


@pytest.mark.parametrize("number", ["3", "0"])
def test_a_report_that_does_not_exist_is_a_404(lab, corrected, signed_in, number):
    response = signed_in(lab.technician).get(f"/samples/{corrected}/reports/{number}.pdf")
    assert response.status_code == 404
    assert signed_in(lab.technician).get("/samples/S-999999/reports/1.pdf").status_code == 404


def test_a_report_version_is_for_the_lab_and_compliance_only(
    lab, corrected, compliance_officer, administrator
):
    url = f"/samples/{corrected}/reports/1.pdf"
    assert Client().get(url).status_code == 302  # to the sign-in page
    assert client_of(administrator).get(url).status_code == 403
    assert client_of(compliance_officer).get(url).status_code == 200
    assert client_of(lab.reviewer).get(url).status_code == 200


def test_a_sample_corrected_after_release_waits_on_its_card_the_worklist_and_the_review_page(
    lab, corrected
):
    amend(lab, "5.3")
    client = client_of(lab.technician)
    card = client.get(f"/samples/{corrected}/card/").content.decode()
    assert AWAITING in card
    worklist = client.get("/samples/?state=amended").content.decode()
    assert corrected in worklist and AWAITING in worklist
    # The newest report is served, saying its signature no longer holds.
    served = pdf_text(client.get(f"/samples/{corrected}/report.pdf").content)
    assert "NO LONGER VALID" in served and "Corrected after this report, awaiting review" in served
    reviewer = client_of(lab.reviewer)
    review = " ".join(reviewer.get("/review/").content.decode().split())
    section = re.search(rf'id="review-{corrected}".*?</section>', review).group(0)
    assert AWAITING in section and "Send an assay for a retest" not in section
    response = reviewer.post("/review/sign/", {"barcode": corrected, "username": "ravi",
                                                "password": PASSWORD})  # fmt: skip
    assert response.status_code == 302
    lab.env.run_until_idle()
    assert lab.state(corrected) == "reported"
    assert Report.objects.filter(sample__barcode=corrected).count() == 3


def test_the_api_lists_every_report_with_its_address(lab, corrected, compliance_officer):
    body = api_for(lab.technician).get(f"/api/v1/samples/{corrected}/").json()
    first, second = Report.objects.filter(sample__barcode=corrected).order_by("number")
    assert [
        {k: r[k] for k in ("number", "kind", "replaces", "sha256", "url")}
        for r in body["reports"]
    ] == [
        {"number": 1, "kind": "original", "replaces": None, "sha256": first.sha256,
         "url": f"/samples/{corrected}/reports/1.pdf"},
        {"number": 2, "kind": "corrected", "replaces": 1, "sha256": second.sha256,
         "url": f"/samples/{corrected}/reports/2.pdf"},
    ]  # fmt: skip
    assert body["state"] == "reported"


def test_the_api_shows_a_correction_waiting_for_review(lab, corrected, make_user):
    amend(lab, "5.3")
    body = api_for(make_user("rhea", Role.REVIEWER)).get(f"/api/v1/samples/{corrected}/").json()
    assert body["state"] == "amended" and "review" in body["waiting_for"]
    assert [r["number"] for r in body["reports"]] == [1, 2]
