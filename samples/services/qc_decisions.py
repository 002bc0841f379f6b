"""A run's quality control concluded, the hold it puts on patient results, the reminders while
it waits, and a supervisor's decision on a run rejected by QC (CLIA 42 CFR 493.1256(f)).

A batch's run on ``batch_run`` version 2 (``samples.lifecycle.quality``) waits for its members'
results and its controls', then concludes (``qc_conclude``): accepted when no control result of
the run is rejected (warnings are kept and accept), otherwise rejected, and its patient results
are held (``qc_hold_check``, called before any signature) until a supervisor (a reviewer)
decides (``qc_decide``): run the batch again (each member goes back for a retest, every result
kept) or accept the run with a reason and an e-signature (password, with the user id at the
session's first signing: ``signer.signer_check``). While it waits, the supervisors are reminded
by email every ``QC_DECISION_REMINDER_MINUTES`` (``qc_remind``).

Version 3 of the run (``qc_control_plan``) also reminds the supervisors, every
``QC_CONTROL_REMINDER_MINUTES`` once the patient results are in, of a control result still
missing (``qc_control_remind``): a control that never gets its result would hold the run's
patient results unseen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import smtplib
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from samples.actors import actor_name
from samples.errors import LabError
from samples.models import (
    Batch,
    BatchControl,
    ControlResult,
    QcDecision,
    QcDecisionKind,
    QcStatus,
    QcVerdict,
    Result,
    Retest,
    Sample,
    SampleState,
)
from samples.roles import Role
from samples.selectors.qc_holds import hold_reason, rejection_words, rejections, results_held
from samples.selectors.signatures import current_results
from samples.services.access import require_role
from samples.services.signer import signer_check
from samples.values.times import utc_text
from workflows.api import Signal, signal_many

log = logging.getLogger(__name__)

# What a supervisor's decision means, as its record and the trail say it.
MEANINGS = {
    QcDecisionKind.ACCEPT: "accepted despite QC",
    QcDecisionKind.RERUN: "run again",
}
# Where a member's lifecycle no longer takes a retest.
_ENDED = {
    SampleState.REJECTED,
    SampleState.VERIFIED,
    SampleState.REPORTED,
    SampleState.EXPIRED,
    SampleState.CANCELLED,
}


def qc_hold_check(sample: Sample) -> None:
    """Refuse (``LabError``) while a current result of ``sample`` comes from a run whose QC is
    pending or rejected: "GLU run of batch 12 is held by QC (2-2s on QC-GLU-1): a supervisor
    decides."."""
    reason = results_held(current_results(sample))
    if reason:
        raise LabError(f"{sample.barcode}: {reason}.")


def qc_controls(*, batch_id: int) -> list[str]:
    """The codes of the control lots with a position in the batch's run (placed as the run
    started), in plate order: the run waits for a result of each."""
    return list(
        BatchControl.objects.filter(batch_id=batch_id)
        .order_by("position")
        .values_list("lot__code", flat=True)
    )


def qc_conclude(*, batch_id: int) -> dict[str, Any]:
    """Conclude the run's QC once its control results are in: accepted when none is rejected,
    else rejected (its patient results stay held). Returns the verdict, the conclusion in
    words and the reminder interval (seconds) while a decision is awaited. A second call
    (a step run again) finds the verdict already made."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().select_related("assay").get(pk=batch_id)
        found = rejections(batch_id)
        if batch.qc_status == QcStatus.PENDING:
            batch.qc_status = QcStatus.REJECTED if found else QcStatus.ACCEPTED
            batch.save(update_fields=["qc_status"])
    accepted = batch.qc_status == QcStatus.ACCEPTED
    code = batch.assay.code
    if accepted:
        warned = ControlResult.objects.filter(
            control__batch_id=batch_id, verdict=QcVerdict.WARNING
        ).select_related("lot")
        summary = f"QC of the {code} run accepted"
        if warned:
            summary += f", with warnings: {rejection_words(warned)}"
    else:
        summary = f"QC of the {code} run rejected: {rejection_words(found)}"
    return {
        "verdict": "accepted" if accepted else "rejected",
        "summary": summary,
        "remind_every": settings.QC_DECISION_REMINDER_MINUTES * 60,
    }


def supervisors() -> list[Any]:
    """Who decides on a run rejected by QC and is reminded: active reviewers with an email."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=Role.REVIEWER.value)
        .exclude(email="")
        .order_by("username")
        .distinct()
    )


def qc_remind(*, batch_id: int) -> dict[str, Any]:
    """Email the supervisors that the run still waits for their decision; returns what was
    done, in words (kept in the run's history). Once decided, nothing is sent. A mail server
    that does not answer is said in the result: the wait goes on and the next reminder tries
    again."""
    batch = Batch.objects.select_related("assay").get(pk=batch_id)
    if batch.qc_status != QcStatus.REJECTED:
        return {"sent_to": [], "summary": "no reminder: the run is decided"}
    reason = hold_reason(batch)
    subject = f"LabTrack: {batch.assay.code} batch {batch.pk} waits for your QC decision"
    body = (
        f"The {reason[0].lower()}{reason[1:]}.\n\n"
        "Its patient results cannot be released until a supervisor runs the batch again or "
        "accepts the run with a reason and a signature, on its batch page in LabTrack."
    )
    return _supervisors_mailed(batch, subject, body)


def qc_control_plan(*, batch_id: int) -> dict[str, Any]:
    """Version 3 of the run: its controls (``qc_controls``) and how often, in seconds, the
    supervisors are reminded while a control result is missing after the patient results
    are in (``QC_CONTROL_REMINDER_MINUTES``, read as the run starts)."""
    return {
        "controls": qc_controls(batch_id=batch_id),
        "remind_every": settings.QC_CONTROL_REMINDER_MINUTES * 60,
    }


def qc_control_remind(*, batch_id: int) -> dict[str, Any]:
    """Email the supervisors that the run's patient results are in but a control result is
    still missing: the batch, the run, the lots, and where a technician enters a control's
    result by hand. Returns the lots and what was done, in words (kept in the run's history).
    With every control result in, nothing is sent; a mail server that does not answer is said
    in the result, and the next reminder tries again."""
    batch = Batch.objects.select_related("assay", "instrument").get(pk=batch_id)
    missing = list(
        BatchControl.objects.filter(batch_id=batch_id, results__isnull=True)
        .order_by("position")
        .values_list("lot__code", flat=True)
    )
    if not missing:
        return {
            "missing": [],
            "sent_to": [],
            "summary": "no reminder: the run's control results are in",
        }
    code, lots = batch.assay.code, ", ".join(missing)
    run = f"{code} batch {batch.pk}, run {batch.run_id}"
    if batch.instrument is not None:
        run += f" on {batch.instrument.name}"
    if batch.run_started_at is not None:
        run += f", started {utc_text(batch.run_started_at)}"
    lacking = f"control {lots} has" if len(missing) == 1 else f"controls {lots} have"
    subject = f"LabTrack: {code} batch {batch.pk} waits for control results ({lots})"
    body = (
        f"{run}: its patient results are in, but {lacking} no result yet. The patient "
        "results are held until every control of the run has its result and QC accepts the "
        "run.\n\n"
        "If the instrument does not send it, a technician enters the control's result by hand, "
        f"with a reason, on the batch board ({reverse('samples:batch_list')}); the run's "
        "controls and their results are on its QC page "
        f"({reverse('samples:batch_qc', args=[batch.pk])}).\n\n"
        "You are reminded again each further period while a control result is missing."
    )
    done = _supervisors_mailed(batch, subject, body)
    return {
        "missing": missing,
        "sent_to": done["sent_to"],
        "summary": f"control result missing ({lots}): {done['summary']}",
    }


def _supervisors_mailed(batch: Batch, subject: str, body: str) -> dict[str, Any]:
    """Send one reminder about ``batch`` to each supervisor; who was mailed, and what was done
    in words."""
    people = supervisors()
    if not people:
        return {"sent_to": [], "summary": "no reminder sent: no active supervisor has an email"}
    messages = [(subject, body, None, [person.email]) for person in people]
    names = [person.get_username() for person in people]
    try:
        send_mass_mail(messages, fail_silently=False)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("QC reminder for batch %s not sent: %s", batch.pk, error)
        return {"sent_to": [], "summary": f"reminder to the supervisors not sent: {error}"}
    return {"sent_to": names, "summary": f"reminder sent to the supervisors ({', '.join(names)})"}


def qc_decide(
    *,
    user: Any,
    batch_id: int,
    decision: str,
    reason: str,
    password: str = "",
    request: HttpRequest | None = None,
    username: str | None = None,
) -> QcDecision:
    """A supervisor's decision on a run rejected by QC, with a reason: ``rerun`` (each member
    goes back for a retest) or ``accept`` (signed: password, and the user id at the session's
    first signing; the hold lifts). Either is kept with the SHA-256 of exactly what was
    decided, and tells the run, which then completes. Refused, changing nothing: a role other
    than reviewer, no reason, a batch not rejected or already decided, a wrong password, the
    person who started the run accepting it."""
    require_role(user, Role.REVIEWER)
    if decision not in QcDecisionKind.values:
        raise LabError("Choose to run the batch again or to accept the run.", field="decision")
    reason = (reason or "").strip()
    if not reason:
        raise LabError("A decision on a run rejected by QC needs a reason.", field="reason")
    batch = Batch.objects.select_related("assay").filter(pk=batch_id).first()
    if batch is None:
        raise LabError(f"There is no batch {batch_id}.")
    _require_undecided(batch)
    if decision == QcDecisionKind.ACCEPT:
        if batch.started_by_id == user.pk:
            raise LabError(
                "You started this run: another supervisor decides to accept it (four eyes)."
            )
        signer_check(user=user, password=password, request=request, username=username)
    with transaction.atomic():
        batch = (
            Batch.objects.select_for_update(of=("self",))
            .select_related("assay", "instrument")
            .get(pk=batch_id)
        )
        _require_undecided(batch)  # another supervisor may have decided meanwhile
        content = decision_content(batch, decision, reason)
        made = QcDecision.objects.create(
            batch=batch,
            decision=decision,
            reason=reason,
            decided_by=user,
            printed_name=user.get_full_name() or user.get_username(),
            meaning=MEANINGS[QcDecisionKind(decision)],
            decided_at=timezone.now(),
            content=content,
            content_sha256=content_sha256(content),
        )
        rerun = decision == QcDecisionKind.RERUN
        batch.qc_status = QcStatus.RERUN if rerun else QcStatus.ACCEPTED_BY_DECISION
        batch.save(update_fields=["qc_status"])
        told = [
            Signal(
                str(batch.run_id),
                "qc_decision",
                {
                    "action": decision,
                    "decision_id": made.pk,
                    "batch_id": batch.pk,
                    "printed_name": made.printed_name,
                    "reason": reason,
                },
                actor=actor_name(user),
                reason=reason,
                idempotency_key="qc_decision",
            )
        ]
        if rerun:
            told += _members_back(batch, user, reason)
        signal_many(told)
    return made


def _require_undecided(batch: Batch) -> None:
    if batch.qc_status == QcStatus.REJECTED:
        return
    done = batch.qc_decisions.order_by("decided_at").last()
    if done is not None:
        raise LabError(
            f"Batch {batch.pk} was already decided: {done.meaning} by {done.printed_name}."
        )
    raise LabError(
        f"Batch {batch.pk} is not rejected by QC ({batch.get_qc_status_display().lower()}): "
        "there is nothing to decide."
    )


def decision_content(batch: Batch, decision: str, reason: str) -> dict[str, Any]:
    """Exactly what a decision is bound to: the run, its rejected control results with the
    rules they broke, the decision and its reason."""
    return {
        "batch": batch.pk,
        "assay": batch.assay.code,
        "run": str(batch.run_id),
        "instrument": batch.instrument.name if batch.instrument else None,
        "run_started_at": batch.run_started_at.isoformat() if batch.run_started_at else None,
        "rejected": [
            {
                "control_result": r.pk,
                "lot": r.lot.code,
                "value": str(r.value),
                "units": r.units,
                "rules": list(r.rules),
            }
            for r in rejections(batch.pk)
        ],
        "decision": decision,
        "reason": reason,
    }


def content_sha256(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _members_back(batch: Batch, user: Any, reason: str) -> list[Signal]:
    """Each member's lifecycle sends the batch's assay back for a retest (the review's retest
    path: a retest opened, the result kept, to be superseded) and into the open batch again."""
    told = []
    code = batch.assay.code
    why = f"{code} batch {batch.pk} run again after QC: {reason}"
    for member in batch.members.select_related("sample").order_by("position"):
        sample = member.sample
        result = (
            Result.objects.filter(
                batch=batch, sample=sample, superseded_by__isnull=True, retest__isnull=True
            )
            .order_by("-pk")
            .first()
        )
        if result is None or sample.state in _ENDED:
            continue
        rounds = Retest.objects.filter(original__sample=sample).count()
        run = str(sample.run_id)
        actor = actor_name(user)
        told += [
            Signal(
                run,
                "review",
                {
                    "action": "retest",
                    "assay": code,
                    "result_id": result.pk,
                    "reason": why,
                    "by": user.pk,
                },
                actor=actor,
                reason=why,
                idempotency_key=f"review:{result.pk}",
            ),
            # The same key a technician's "add to the open batch" would take after the retest.
            Signal(
                run,
                "batch",
                {"by": user.pk},
                actor=actor,
                reason=why,
                idempotency_key=f"batch:{rounds + 1}",
            ),
        ]
    return told
