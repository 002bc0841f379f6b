"""The hold a run's QC puts on its patient results, and a supervisor's decision on a run rejected
by QC: who may decide, what is refused (changing nothing), and what the pages show."""

from __future__ import annotations

import pytest

from samples import services
from samples.errors import LabError, NotAllowed
from samples.models import QcDecision, QcStatus, Signature
from samples.roles import Role
from tests.cast import PASSWORD
from tests.samples.quality import held_run, make_lot, start_run_on_instrument
from workflows.api import get_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(make_user):
    return make_user("kim", Role.REVIEWER, first_name="Dr", last_name="Kim", email="kim@lab.test")


def nothing_changed(batch) -> None:
    batch.refresh_from_db()
    assert batch.qc_status == QcStatus.REJECTED
    assert QcDecision.objects.count() == 0
    assert get_run(str(batch.run_id)).status == "waiting"


def test_verification_is_refused_while_qc_is_pending_and_signs_nothing(lab, signed_in):
    make_lot(lab.instrument)
    lab.register("S-000611")
    lab.receive("S-000611")
    lab.to_batch("S-000611")
    lab.close_batches()
    batch = start_run_on_instrument(lab)
    lab.post("S-000611", "5.0")
    with pytest.raises(LabError) as refused:
        services.sample_verify(user=lab.reviewer, barcode="S-000611", password=PASSWORD)
    assert refused.value.message == (
        f"S-000611: GLU run of batch {batch.pk} waits for its control results: its results "
        "are held until QC accepts the run."
    )
    client = signed_in(lab.reviewer)
    response = client.post(
        "/review/sign/", {"barcode": ["S-000611"], "username": "ravi", "password": PASSWORD},
        follow=True,
    )  # fmt: skip
    assert "S-000611 not signed: S-000611: GLU run of batch" in response.content.decode()
    assert Signature.objects.count() == 0


def test_verification_is_refused_while_rejected_and_allowed_once_accepted(lab, supervisor):
    batch = held_run(lab)
    with pytest.raises(LabError, match=r"GLU run of batch \d+ is held by QC \(2-2s on QC-GLU-1\)"):
        services.sample_verify(user=lab.reviewer, barcode="S-000701", password=PASSWORD)
    services.qc_decide(
        user=supervisor, batch_id=batch.pk, decision="accept", reason="ok", password=PASSWORD
    )
    lab.env.run_until_idle()
    signature = services.sample_verify(user=lab.reviewer, barcode="S-000701", password=PASSWORD)
    assert signature.sample.barcode == "S-000701"


def test_a_decision_needs_the_reviewer_role(lab):
    batch = held_run(lab)
    with pytest.raises(NotAllowed):
        services.qc_decide(
            user=lab.technician, batch_id=batch.pk, decision="rerun", reason="vial open"
        )
    nothing_changed(batch)


@pytest.mark.parametrize(
    ("decision", "reason", "password", "words"),
    [
        ("rerun", "  ", "", "needs a reason"),
        ("accept", "", PASSWORD, "needs a reason"),
        ("ignore", "why not", PASSWORD, "run the batch again or to accept"),
        ("accept", "looks fine", "wrong", "Wrong password: the signature was not applied."),
        ("accept", "looks fine", "", "Wrong password"),
    ],
)
def test_a_decision_without_reason_or_with_a_wrong_password_is_refused(
    lab, supervisor, decision, reason, password, words
):
    batch = held_run(lab)
    with pytest.raises(LabError, match=words):
        services.qc_decide(
            user=supervisor, batch_id=batch.pk, decision=decision, reason=reason,
            password=password,
        )  # fmt: skip
    nothing_changed(batch)


def test_a_second_decision_is_refused(lab, supervisor, make_user):
    batch = held_run(lab)
    services.qc_decide(user=supervisor, batch_id=batch.pk, decision="rerun", reason="vial open")
    other = make_user("rosa", Role.REVIEWER)
    with pytest.raises(LabError, match="already decided: run again by Dr Kim"):
        services.qc_decide(
            user=other, batch_id=batch.pk, decision="accept", reason="fine", password=PASSWORD
        )
    assert QcDecision.objects.count() == 1
    batch.refresh_from_db()
    assert batch.qc_status == QcStatus.RERUN


def test_a_decision_on_a_batch_not_rejected_is_refused(lab, supervisor):
    make_lot(lab.instrument)
    lab.register("S-000621")
    lab.receive("S-000621")
    lab.to_batch("S-000621")
    lab.close_batches()
    batch = start_run_on_instrument(lab)
    with pytest.raises(LabError, match=r"not rejected by QC \(waiting for its control results\)"):
        services.qc_decide(user=supervisor, batch_id=batch.pk, decision="rerun", reason="x")
    with pytest.raises(LabError, match="There is no batch 999999"):
        services.qc_decide(user=supervisor, batch_id=999999, decision="rerun", reason="x")
    assert QcDecision.objects.count() == 0


def test_who_started_the_run_may_not_accept_it(lab, make_user):
    both = make_user("bo", Role.TECHNICIAN, Role.REVIEWER)
    batch = held_run(lab, starter=both)
    with pytest.raises(LabError, match="four eyes"):
        services.qc_decide(
            user=both, batch_id=batch.pk, decision="accept", reason="fine", password=PASSWORD
        )
    nothing_changed(batch)


# --- the pages -------------------------------------------------------------------------------


def test_the_review_page_shows_a_held_sample_held_with_its_reason_and_not_signable(lab, signed_in):
    batch = held_run(lab)
    body = signed_in(lab.reviewer).get("/review/").content.decode()
    assert 'id="review-S-000701"' in body
    assert "Held by QC: not signable" in body
    assert f"GLU run of batch {batch.pk} is held by QC (2-2s on QC-GLU-1)" in body
    assert 'id="pick-S-000701"' not in body  # no box to tick it for signing
    assert f'href="/batches/{batch.pk}/qc/"' in body


def test_a_supervisor_accepts_on_the_batch_page_with_reason_and_password(
    lab, supervisor, signed_in
):
    batch = held_run(lab)
    client = signed_in(supervisor)
    page = client.get(f"/batches/{batch.pk}/qc/").content.decode()
    assert 'id="qc-decision"' in page and "QC-GLU-1" in page and "2-2s" in page

    wrong = client.post(
        f"/batches/{batch.pk}/qc/decide/",
        {"decision": "accept", "reason": "fine", "username": "kim", "password": "nope"},
    )
    assert wrong.status_code == 400
    assert "Wrong user id or password: the signature was not applied." in wrong.content.decode()
    nothing_changed(batch)

    done = client.post(
        f"/batches/{batch.pk}/qc/decide/",
        {"decision": "accept", "reason": "fine", "username": "kim", "password": PASSWORD},
        follow=True,
    )
    body = done.content.decode()
    assert f"Batch {batch.pk}: run accepted despite QC by Dr Kim" in body
    assert "Rejected by QC, accepted by a supervisor" in body
    batch.refresh_from_db()
    assert batch.qc_status == QcStatus.ACCEPTED_BY_DECISION


def test_wrong_passwords_on_the_decision_lock_the_account_as_on_the_review_page(
    lab, supervisor, signed_in
):
    """The fifth wrong password ends the session and says the account is locked, as signing a
    sample's results does (tests/samples/services/test_signature_lockout.py)."""
    batch = held_run(lab)
    client = signed_in(supervisor)
    typed = {"decision": "accept", "reason": "fine", "username": "kim", "password": "nope"}
    for _ in range(4):
        assert client.post(f"/batches/{batch.pk}/qc/decide/", typed).status_code == 400
    locked = client.post(f"/batches/{batch.pk}/qc/decide/", typed)
    body = locked.content.decode()
    assert locked.status_code == 429
    assert "Account locked" in body and "You have been signed out" in body
    assert "Wrong" not in body
    nothing_changed(batch)
    assert client.get(f"/batches/{batch.pk}/qc/").status_code == 302  # signed out


def test_only_a_supervisor_decides_on_the_page(lab, signed_in):
    batch = held_run(lab)
    client = signed_in(lab.technician)
    assert client.get(f"/batches/{batch.pk}/qc/").status_code == 200
    answer = client.post(
        f"/batches/{batch.pk}/qc/decide/", {"decision": "rerun", "reason": "vial open"}
    )
    assert answer.status_code == 403
    nothing_changed(batch)
    assert client.get("/batches/999999/qc/").status_code == 404


def test_a_decision_on_a_batch_already_decided_answers_409_on_the_page(lab, supervisor, signed_in):
    batch = held_run(lab)
    services.qc_decide(user=supervisor, batch_id=batch.pk, decision="rerun", reason="vial")
    client = signed_in(supervisor)
    answer = client.post(
        f"/batches/{batch.pk}/qc/decide/", {"decision": "rerun", "reason": "again"}
    )
    assert answer.status_code == 409
    assert "already decided" in answer.content.decode()
