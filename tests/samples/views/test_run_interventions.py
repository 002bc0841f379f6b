"""Interventions on workflow runs from the console: each needs a reason and is recorded in the
run's history with actor and reason; resuming a blocked run; a cancellation takes effect only
when a second person approves it."""

from __future__ import annotations

import pytest
from django.test import Client

from samples.roles import Role
from tests.cast import PASSWORD
from workflows.api import get_run
from workflows.models import Run
from workflows.ops import InterventionRefused, decide, intervene

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(lab):
    return lab.register("S-000010")


@pytest.fixture
def supervisors(make_user):
    return make_user("sup-a", Role.REVIEWER), make_user("sup-b", Role.REVIEWER)


def _kinds(run_id) -> list[str]:
    return [e.kind for e in get_run(str(run_id)).history]


def _last(run_id, kind):
    return next(e for e in reversed(get_run(str(run_id)).history) if e.kind == kind)


def test_every_intervention_needs_a_reason_and_changes_nothing_without_one(sample, supervisors):
    before = _kinds(sample.run_id)
    for kind in ("retry", "cancel"):
        with pytest.raises(InterventionRefused, match="needs a reason"):
            intervene(str(sample.run_id), kind, actor="sup-a", reason="  ")
    assert _kinds(sample.run_id) == before


def test_a_retry_is_recorded_in_the_history_with_actor_and_reason(sample, supervisors, signed_in):
    client = signed_in(supervisors[0])
    response = client.post(
        f"/workflows/runs/{sample.run_id}/intervene/",
        {"kind": "retry", "reason": "network restored"},
        follow=True,
    )
    assert response.status_code == 200
    event = _last(sample.run_id, "retry_requested")
    assert (event.actor, event.reason) == ("sup-a", "network restored")
    assert "Retry:" in response.content.decode()


def test_a_blocked_run_is_resumed_after_the_fix(lab, sample, supervisors, signed_in):
    Run.objects.filter(pk=sample.run_id).update(
        status="blocked", blocked_reason="version 1 of 'sample_lifecycle' is not registered"
    )
    client = signed_in(supervisors[0])
    response = client.post(
        f"/workflows/runs/{sample.run_id}/intervene/",
        {"kind": "resume", "reason": "version 1 deployed again"},
        follow=True,
    )
    assert "Resume: resumed against the code now loaded" in response.content.decode()
    lab.env.run_until_idle()
    run = get_run(str(sample.run_id))
    assert run.status == "waiting"  # back to waiting for receipt, as before it was blocked
    event = _last(sample.run_id, "resume_requested")
    assert (event.actor, event.reason) == ("sup-a", "version 1 deployed again")
    assert lab.receive("S-000010")  # and the lifecycle goes on from where it was


def test_a_resume_that_cannot_replay_says_the_run_is_still_blocked(lab, sample):
    from workflows import registry

    Run.objects.filter(pk=sample.run_id).update(status="blocked", blocked_reason="was blocked")
    version = get_run(str(sample.run_id), history=False).version  # the newest
    definition = registry.get_workflow("sample_lifecycle", version)
    registry.unregister_workflow("sample_lifecycle", version)
    try:
        done = intervene(str(sample.run_id), "resume", actor="sup-a", reason="try again")
    finally:
        registry.register_workflow(definition)
    assert done.outcome.startswith("still blocked: ")
    assert "not registered" in done.outcome
    assert get_run(str(sample.run_id)).status == "blocked"


def test_only_a_blocked_run_can_be_resumed(sample):
    with pytest.raises(InterventionRefused, match="Only a blocked run"):
        intervene(str(sample.run_id), "resume", actor="sup-a", reason="just in case")


def _client_of(user) -> Client:
    """A browser of its own for each person, signed in through the login form."""
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_cancellation_waits_for_a_second_person(lab, sample, supervisors):
    first, second = (_client_of(user) for user in supervisors)
    first.post(
        f"/workflows/runs/{sample.run_id}/intervene/",
        {"kind": "cancel", "reason": "registered twice"},
    )
    lab.env.run_until_idle()
    assert get_run(str(sample.run_id)).status == "waiting"  # not yet
    asked = _last(sample.run_id, "intervention_requested")
    assert (asked.actor, asked.reason, asked.data["action"]) == (
        "sup-a",
        "registered twice",
        "cancel",
    )
    pending = first.get(f"/workflows/runs/{sample.run_id}/").context["interventions"][0]
    assert pending.status == "pending"

    # The person who asked may not approve it.
    mine = first.post(
        f"/workflows/interventions/{pending.id}/", {"decision": "approve", "run": sample.run_id},
        follow=True,
    )  # fmt: skip
    assert "A second person must decide" in mine.content.decode()
    lab.env.run_until_idle()
    assert get_run(str(sample.run_id)).status == "waiting"

    approved = second.post(
        f"/workflows/interventions/{pending.id}/", {"decision": "approve"}, follow=True
    )
    assert "Approved: cancellation delivered" in approved.content.decode()
    lab.env.run_until_idle()
    assert get_run(str(sample.run_id)).status == "cancelled"
    approved = _last(sample.run_id, "intervention_approved")
    assert approved.actor == "sup-b"
    cancel = _last(sample.run_id, "cancel_requested")
    assert (cancel.actor, cancel.reason) == ("sup-a", "registered twice")


def test_four_eyes_compare_accounts_not_names_a_renamed_asker_may_not_approve(
    lab, sample, supervisors
):
    asker, other = supervisors
    first, second = (_client_of(user) for user in supervisors)
    first.post(
        f"/workflows/runs/{sample.run_id}/intervene/",
        {"kind": "cancel", "reason": "registered twice"},
    )
    pending = first.get(f"/workflows/runs/{sample.run_id}/").context["interventions"][0]
    asker.username = "sup-a-renamed"  # the same person, under a new name
    asker.save()

    mine = first.post(
        f"/workflows/interventions/{pending.id}/", {"decision": "approve", "run": sample.run_id},
        follow=True,
    )  # fmt: skip
    assert "A second person must decide" in mine.content.decode()
    with pytest.raises(InterventionRefused, match="A second person must decide"):
        decide(pending.id, actor="sup-a-renamed", actor_id=asker.pk, approve=True)
    lab.env.run_until_idle()
    assert get_run(str(sample.run_id)).status == "waiting"

    second.post(f"/workflows/interventions/{pending.id}/", {"decision": "approve"})
    lab.env.run_until_idle()
    assert get_run(str(sample.run_id)).status == "cancelled"
    assert _last(sample.run_id, "intervention_approved").actor == other.username


def test_a_refusal_needs_a_reason_and_leaves_the_run_alone(lab, sample, supervisors):
    asked = intervene(str(sample.run_id), "cancel", actor="sup-a", reason="wrong patient")
    with pytest.raises(InterventionRefused, match="Say why"):
        decide(asked.id, actor="sup-b", approve=False)
    refused = decide(asked.id, actor="sup-b", approve=False, reason="the patient is right")
    assert refused.status == "refused"
    lab.env.run_until_idle()
    assert get_run(str(sample.run_id)).status == "waiting"
    event = _last(sample.run_id, "intervention_refused")
    assert (event.actor, event.reason) == ("sup-b", "the patient is right")
    with pytest.raises(InterventionRefused, match="already refused"):
        decide(asked.id, actor="sup-b", approve=True)


def test_a_finished_run_takes_no_intervention(sample):
    Run.objects.filter(pk=sample.run_id).update(status="completed")
    with pytest.raises(InterventionRefused, match="nothing to retry"):
        intervene(str(sample.run_id), "retry", actor="sup-a", reason="again")


def test_technicians_and_compliance_officers_may_not_act(
    sample, technician, compliance_officer, signed_in
):
    for user in (technician, compliance_officer):
        response = signed_in(user).post(
            f"/workflows/runs/{sample.run_id}/intervene/", {"kind": "retry", "reason": "x"}
        )
        assert response.status_code == 403
    assert "retry_requested" not in _kinds(sample.run_id)


def test_an_unknown_intervention_kind_is_refused_with_a_message(sample, supervisors, signed_in):
    response = signed_in(supervisors[0]).post(
        f"/workflows/runs/{sample.run_id}/intervene/",
        {"kind": "explode", "reason": "why not"},
        follow=True,
    )
    assert response.status_code == 200
    assert "There is no intervention" in response.content.decode()


def test_a_lifecycle_restarted_from_a_step_is_followed_by_its_sample(lab, sample, supervisors):
    from samples.models import Sample
    from workflows.models import StepTask

    lab.receive("S-000010")
    old_run = str(sample.run_id)
    first_step = StepTask.objects.filter(run_id=old_run).order_by("cmd").first()
    first, second = (_client_of(user) for user in supervisors)
    first.post(
        f"/workflows/runs/{old_run}/intervene/",
        {"kind": "restart", "step": first_step.cmd, "reason": "routing rules corrected"},
    )
    pending = first.get(f"/workflows/runs/{old_run}/").context["interventions"][0]
    assert (pending.kind, pending.step, pending.status) == ("restart", first_step.cmd, "pending")
    second.post(f"/workflows/interventions/{pending.id}/", {"decision": "approve"})
    lab.env.run_until_idle()

    new_run = str(Sample.objects.get(barcode="S-000010").run_id)
    assert new_run != old_run  # the sample follows the new run
    assert get_run(old_run).status == "superseded"
    assert get_run(new_run).status == "waiting"
    page = second.get(f"/workflows/runs/{new_run}/")
    assert page.context["restarted_from"] == old_run
    assert page.context["kind"] == "sample"
    assert lab.to_batch("S-000010")  # and the lifecycle goes on, on the new run


def test_a_restarted_sample_keeps_every_run_in_its_audit_trail_dossier_and_search(
    lab, sample, supervisors
):
    from samples.documents.dossier import dossier
    from samples.models import Sample
    from samples.selectors.audit import AuditFilter, audit_entries
    from samples.selectors.runs import owner_of, runs_named
    from samples.selectors.timeline import sample_timeline
    from workflows.models import StepTask

    lab.receive("S-000010")
    old_run = str(sample.run_id)
    first_step = StepTask.objects.filter(run_id=old_run).order_by("cmd").first()
    asked = intervene(
        old_run, "restart", actor="sup-a", reason="routing rules corrected", step=first_step.cmd
    )
    decide(asked.id, actor="sup-b", approve=True)
    lab.env.run_until_idle()
    new_run = str(Sample.objects.get(barcode="S-000010").run_id)
    assert new_run != old_run

    # The old run's own events (the restart asked for and approved, the run superseded) stay
    # in the sample's trail, named by its barcode.
    trail = list(audit_entries(AuditFilter(sample="S-000010")))
    runs_in_trail = {e.extra["run"] for e in trail if e.source == "lifecycle"}
    assert runs_in_trail == {old_run, new_run}
    old_kinds = {e.type for e in trail if e.extra.get("run") == old_run}
    assert {"intervention_requested", "intervention_approved", "run_superseded"} <= old_kinds
    assert all(e.name == "S-000010" for e in trail if e.source == "lifecycle")

    content = dossier(Sample.objects.get(barcode="S-000010"))
    assert {e["run"] for e in content["lifecycle"]} == {old_run, new_run}
    assert content["verification"]["intact"]

    assert set(runs_named("s-000010")) == {old_run, new_run}
    assert owner_of(old_run) == owner_of(new_run) == ("sample", "S-000010")

    # The sample's timeline tells the restart once, without repeating the copied history.
    words = [entry.what for entry in sample_timeline(Sample.objects.get(barcode="S-000010"))]
    step = first_step.cmd
    assert words.count("Received (condition acceptable)") == 1
    assert (
        words.index(f"Restart from step {step} requested, for a second person to approve")
        < (words.index(f"Restart from step {step} approved"))
        < words.index(f"Lifecycle superseded by run {new_run}, restarted from step {step}")
    )
    assert words.index(f"Lifecycle restarted from step {step} of run {old_run}") > words.index(
        f"Restart from step {step} approved"
    )
