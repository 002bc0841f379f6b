"""Results, retests, verification with an electronic signature (the report:
``samples.services.reports``).

A result is never overwritten: a retest adds a new result and links the old one to it
(``superseded_by``). Verification is an e-signature (COMPLIANCE.md C10 to C12): the password is
entered again (once for several samples signed in one act), the signer may not be who entered a
result or started its batch run, and each signature is bound to a SHA-256 of exactly the results
it releases.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from samples.actors import actor_name
from samples.errors import LabError
from samples.models import (
    Assay,
    Result,
    Retest,
    Sample,
    SampleState,
    Signature,
)
from samples.roles import Role
from samples.selectors.corrections import result_amenders
from samples.selectors.signatures import content_hash, current_results, signed_content
from samples.services.access import require_role
from samples.services.critical import critical_hold_check
from samples.services.qc_decisions import qc_hold_check
from samples.services.signer import signer_check
from samples.services.specimens import sample_get
from samples.values.answers import ABNORMAL_FLAG, answers_of
from samples.values.codes import code_clean
from workflows.api import signal

MEANING = "reviewed and released"
# Instrument flags that make a result unusable: the sample goes back for a retest.
RETEST_FLAGS = {"QC_FAIL", "CLOT", "SHORT_SAMPLE", "ERROR"}


CRITICAL = {"LL", "HH"}


def interpretation_of(assay: Assay, value: Decimal | None, text: str | None = None) -> str:
    """The lab's reading of a value: "LL"/"HH" beyond the critical limits, "L"/"H" outside the
    reference range, "" within it (or when the assay has no limits on that side). An answer
    of a qualitative assay: "A" (abnormal, HL7 table 0078) when the assay marks it abnormal,
    "" otherwise; an answer is never critical."""
    if text is not None or value is None:
        abnormal = {a.text for a in answers_of(assay) if a.abnormal}
        return ABNORMAL_FLAG if text in abnormal else ""
    if assay.critical_low is not None and value < assay.critical_low:
        return "LL"
    if assay.critical_high is not None and value > assay.critical_high:
        return "HH"
    if assay.reference_low is not None and value < assay.reference_low:
        return "L"
    if assay.reference_high is not None and value > assay.reference_high:
        return "H"
    return ""


def result_evaluate(*, result_id: int) -> dict[str, Any]:
    """Read a result against its assay's ranges (an answer: against its answers); say whether
    it needs a retest. Only an instrument's flag sends a result back for a retest, never its
    value or answer; an abnormal answer is flagged "A" for the reviewer, and is not critical."""
    result = Result.objects.select_related("assay").get(pk=result_id)
    interpretation = interpretation_of(result.assay, result.value, result.text)
    Result.objects.filter(pk=result.pk).update(interpretation=interpretation)
    bad = sorted(RETEST_FLAGS.intersection(result.flags))
    return {
        "retest": bool(bad),
        "reason": f"instrument flag {', '.join(bad)}" if bad else "",
        "critical": interpretation in CRITICAL,
        "interpretation": interpretation,
    }


def result_flag_critical(*, barcode: str, result_id: int) -> str:
    """Mark a critical result for the reviewer's attention (lifecycle version 2)."""
    Result.objects.filter(pk=result_id, sample__barcode=barcode, critical_flagged_at=None).update(
        critical_flagged_at=timezone.now()
    )
    return f"critical result {result_id} of {barcode} flagged for review"


def retest_open(*, result_id: int, reason: str, user_id: int | None) -> int:
    """Ask for a retest of a result (once per result); the result stays, to be superseded."""
    retest, _ = Retest.objects.get_or_create(
        original_id=result_id,
        defaults={"reason": reason, "requested_by_id": user_id, "requested_at": timezone.now()},
    )
    return retest.pk


def sample_send_to_retest(*, user: Any, barcode: str, assay_code: str, reason: str) -> str:
    """A reviewer sends one assay of a resulted sample back for a retest, with a reason."""
    require_role(user, Role.REVIEWER)
    reason = (reason or "").strip()
    if not reason:
        raise LabError("A retest needs a reason.", field="reason")
    sample = sample_get(barcode)
    if sample.state != SampleState.RESULTED:
        raise LabError(
            f"{sample.barcode} is {sample.get_state_display().lower()}: only a "
            "resulted sample can be sent for a retest."
        )
    result = next((r for r in current_results(sample) if r.assay.code == assay_code), None)
    if result is None:
        raise LabError(f"{sample.barcode} has no {assay_code} result to retest.", field="assay")
    done = Retest.objects.filter(original__sample=sample, original__assay=result.assay).count()
    if done >= result.assay.max_retests:
        raise LabError(
            f"{assay_code} was retested {done} time(s), its limit: release or escalate instead."
        )
    signal(
        str(sample.run_id),
        "review",
        {
            "action": "retest",
            "assay": assay_code,
            "result_id": result.pk,
            "reason": reason,
            "by": user.pk,
        },
        actor=actor_name(user),
        reason=reason,
        idempotency_key=f"review:{result.pk}",
    )
    return f"{sample.barcode}: {assay_code} goes back for a retest."


def sample_verify(
    *,
    user: Any,
    barcode: str,
    password: str,
    request: HttpRequest | None = None,
    username: str | None = None,
) -> Signature:
    """Verify and release one resulted sample's results with an e-signature (the user id is
    needed too at the first signing of a session: ``samples.services.signer``)."""
    require_role(user, Role.REVIEWER)
    _require_resulted(sample_get(barcode))  # refused before the password is asked for
    signer_check(user=user, password=password, request=request, username=username)
    return _sample_sign(user=user, barcode=barcode)


@dataclass(frozen=True)
class SignOutcome:
    """What became of one sample of a signing act: its signature, or why it was not signed."""

    barcode: str
    signature: Signature | None = None
    error: str = ""


def samples_verify(
    *,
    user: Any,
    barcodes: list[str],
    password: str,
    request: HttpRequest | None = None,
    username: str | None = None,
) -> list[SignOutcome]:
    """Verify several samples in one signing act: the user id and password are entered once
    (21 CFR 11.200(a)(1)(i); the user id only at the first signing of the session, (ii)), and
    each sample gets its
    own signature bound to its own content and signals its own workflow, as ``sample_verify``
    does. A sample that cannot be signed (its state changed, four eyes...) is reported in its
    outcome and the others are signed. A wrong password signs nothing."""
    require_role(user, Role.REVIEWER)
    wanted = [b for b in dict.fromkeys(map(code_clean, barcodes)) if b]
    if not wanted:
        raise LabError("Select the samples to sign.", field="barcode")
    signer_check(user=user, password=password, request=request, username=username)
    outcomes = []
    for barcode in wanted:
        try:
            signature = _sample_sign(user=user, barcode=barcode)
        except LabError as refusal:
            outcomes.append(SignOutcome(barcode, error=refusal.message))
        else:
            outcomes.append(SignOutcome(barcode, signature=signature))
    return outcomes


def _require_resulted(sample: Sample) -> None:
    """Resulted, or corrected after release and back to review (``SampleState.AMENDED``)."""
    if sample.state not in (SampleState.RESULTED, SampleState.AMENDED):
        raise LabError(
            f"{sample.barcode} is {sample.get_state_display().lower()}: only a "
            "resulted sample can be verified."
        )


def _sample_sign(*, user: Any, barcode: str) -> Signature:
    """Sign one sample for a signer whose password has just been checked."""
    sample = sample_get(barcode)
    _require_resulted(sample)
    critical_hold_check(sample)
    qc_hold_check(sample)
    results = current_results(sample)
    involved = (
        {r.entered_by_id for r in results}
        | result_amenders(results)
        | {r.batch.started_by_id for r in results if r.batch is not None}
    )
    if user.pk in involved:
        raise LabError(
            "You entered, corrected or started the batch run of a result of this sample: "
            "another reviewer must verify it (four eyes)."
        )
    content = signed_content(sample)
    digest = content_hash(content)
    with transaction.atomic():
        locked = Sample.objects.select_for_update().get(pk=sample.pk)
        _require_resulted(locked)  # it may have moved on since it was read
        signed = Signature.objects.filter(signed_at__gte=locked.state_changed_at)
        if signed.filter(sample=sample, content_sha256=digest).exists():
            raise LabError(f"{sample.barcode} is already verified.")
        signature = Signature.objects.create(
            sample=sample,
            signer=user,
            printed_name=user.get_full_name() or user.get_username(),
            meaning=MEANING,
            signed_at=timezone.now(),
            content=content,
            content_sha256=digest,
        )
        Sample.objects.filter(pk=sample.pk, released_at__isnull=True).update(
            released_at=signature.signed_at
        )
        signal(
            str(sample.run_id),
            "review",
            {"action": "verify", "signature_id": signature.pk},
            actor=actor_name(user),
            reason=MEANING,
            idempotency_key=f"review:verify:{digest}",
        )
    return signature
