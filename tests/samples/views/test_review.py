"""Review: verify with an e-signature or send for a retest; the report download."""

from __future__ import annotations

from samples.models import Retest, Signature
from tests.cast import PASSWORD


def resulted(lab, barcode="S-000701", value="5.0"):
    lab.register(barcode)
    lab.receive(barcode)
    lab.analyse(barcode, value)
    return barcode


def test_the_queue_lists_resulted_samples_with_their_results(lab, signed_in):
    resulted(lab, value="30")
    body = signed_in(lab.reviewer).get("/review/").content.decode()
    assert "S-000701" in body and "30 mmol/L" in body and "CRITICAL HIGH" in body
    assert "critical: check before release" in body  # lifecycle version 2 flagged it
    assert 'value="S-000701" form="sign-form"' in body
    assert "Sign selected: reviewed and released" in body


def test_a_reviewer_signs_with_the_password_and_the_report_follows(lab, signed_in):
    resulted(lab)
    client = signed_in(lab.reviewer)
    response = client.post(
        "/review/S-000701/verify/", {"username": "ravi", "password": PASSWORD}, follow=True
    )
    assert "reviewed and released by Ravi" in response.content.decode()
    lab.env.run_until_idle()
    assert lab.state("S-000701") == "reported"
    pdf = client.get("/samples/S-000701/report.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_a_wrong_password_signs_nothing_and_counts_as_a_failed_sign_in(lab, signed_in):
    from axes.models import AccessAttempt

    resulted(lab)
    client = signed_in(lab.reviewer)
    response = client.post(
        "/review/S-000701/verify/", {"username": "ravi", "password": "nope"}, follow=True
    )
    assert "Wrong user id or password" in response.content.decode()
    assert not Signature.objects.exists()
    assert AccessAttempt.objects.get(username="ravi").failures_since_start == 1


def test_a_retest_needs_a_reason_and_sends_the_sample_back(lab, signed_in):
    resulted(lab)
    client = signed_in(lab.reviewer)
    refused = client.post("/review/S-000701/retest/", {"assay": "GLU", "reason": ""}, follow=True)
    assert "A retest needs a reason." in refused.content.decode()
    client.post("/review/S-000701/retest/", {"assay": "GLU", "reason": "delta check"})
    lab.env.run_until_idle()
    assert lab.state("S-000701") == "retest_pending"
    assert Retest.objects.get().reason == "delta check"


def test_technicians_cannot_sign_and_nobody_downloads_a_report_that_does_not_exist(lab, signed_in):
    resulted(lab)
    client = signed_in(lab.technician)
    assert client.post("/review/S-000701/verify/", {"password": PASSWORD}).status_code == 403
    assert client.get("/review/").status_code == 403
    assert client.get("/samples/S-000701/report.pdf").status_code == 404
    assert lab.state("S-000701") == "resulted"
