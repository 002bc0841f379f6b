"""Forms that post and redirect say a refusal in the page's message area and send the person back
where the form was (samples/views/errors.py); a role refusal answers 403 with its words.
Nothing changes."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from knox.models import AuthToken

from samples.models import AuditReview, Batch
from samples.roles import Role
from workflows.api import get_run

pytestmark = pytest.mark.django_db


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_refused_token_revocation_is_said_on_the_token_page(lab, administrator, signed_in):
    client = signed_in(administrator)
    before = AuthToken.objects.count()
    refused = client.post("/tokens/revoke/", {"key": "abc"})
    assert (refused.status_code, refused["Location"]) == (302, "/tokens/")
    assert said(refused) == ["Give at least the first 6 characters of the token's key."]
    assert AuthToken.objects.count() == before


def test_a_refused_retest_names_its_sample(lab, signed_in):
    refused = signed_in(lab.reviewer).post(
        "/review/S-000799/retest/", {"assay": "GLU", "reason": "delta check"}
    )
    assert (refused.status_code, refused["Location"]) == (302, "/review/")
    assert said(refused) == [
        "S-000799: Unknown barcode S-000799: no sample is registered under it."
    ]


def test_a_batch_started_on_an_instrument_not_in_the_list_is_refused(lab, signed_in):
    lab.register("S-000791")
    lab.receive("S-000791")
    lab.to_batch("S-000791")
    batch = Batch.objects.get()
    refused = signed_in(lab.technician).post(
        f"/batches/{batch.pk}/start/", {"instrument": "Cobas-1"}
    )
    assert (refused.status_code, refused["Location"]) == (302, "/batches/")
    assert said(refused) == ["Choose an instrument from the list."]


def test_a_refused_audit_review_goes_back_to_the_trail_as_shown(lab, compliance_officer, signed_in):
    refused = signed_in(compliance_officer).post(
        "/audit/review/?sample=S-000001&detail=all&before=x", {"outcome": "", "comment": ""}
    )
    assert refused.status_code == 302
    assert refused["Location"] == "/audit/?sample=S-000001&detail=all"
    assert said(refused) == ["Choose the outcome of the review. Nothing was recorded."]
    assert not AuditReview.objects.exists()


def test_an_administrator_reads_the_audit_trail_but_may_not_review_it(
    lab, administrator, signed_in
):
    role = signed_in(administrator).post("/audit/review/", {"outcome": "no_findings"})
    assert role.status_code == 403 and role["Content-Type"] == "text/plain"
    assert role.content.decode() == "Only a compliance officer may do this."
    assert not AuditReview.objects.exists()


def test_a_refused_intervention_goes_back_to_its_run(lab, make_user, signed_in):
    run_id = str(lab.register("S-000792").run_id)
    client = signed_in(make_user("sup-a", Role.REVIEWER))
    before = len(get_run(run_id).history)
    refused = client.post(
        f"/workflows/runs/{run_id.upper()}/intervene/", {"kind": "retry", "reason": " "}
    )
    assert (refused.status_code, refused["Location"]) == (302, f"/workflows/runs/{run_id}/")
    assert said(refused) == ["An intervention needs a reason."]
    assert len(get_run(run_id).history) == before


def test_a_refused_decision_goes_back_to_the_run_the_form_names_or_to_the_list(
    lab, make_user, signed_in
):
    run_id = str(lab.register("S-000793").run_id)
    client = signed_in(make_user("sup-a", Role.REVIEWER))
    for form, back in (
        ({"decision": "approve", "run": run_id.upper()}, f"/workflows/runs/{run_id}/"),
        ({"decision": "approve", "run": "not a run"}, "/workflows/runs/"),
        ({"decision": "approve"}, "/workflows/runs/"),
    ):
        refused = client.post("/workflows/interventions/999999/", form)
        assert (refused.status_code, refused["Location"]) == (302, back)
        assert "There is no intervention 999999." in client.get(back).content.decode()
