"""Review: resulted samples waiting for verification. A reviewer ticks samples and signs them in
one signing act (user id and password at the first signing of the session, the password alone
after it; meaning "reviewed and released"; each sample its own signature), or sends one assay
back for a retest with a reason. From the page (htmx) the answer replaces only the signed
samples' cards and the signing bar, so the page stays where it was.
The reports of a released sample are downloaded from here (the newest, or each by its number),
only while each matches the SHA-256 recorded when it was stored. A corrected sample waits on
this page like a resulted one, marked "corrected after release: awaiting review"."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from samples import services
from samples.documents.reports import Replaced, render_report
from samples.errors import LabError
from samples.models import Report
from samples.roles import Role, has_role, role_required
from samples.selectors.chains import content_checked
from samples.selectors.review import review_queue
from samples.selectors.signatures import current_results, signature_valid
from samples.services.results import MEANING, SignOutcome
from samples.services.signer import (
    AccountLocked,
    attempts_left,
    last_attempt_warning,
    user_id_needed,
)
from samples.values.times import utc_text
from samples.views.errors import locked_out, refusal_as_message
from samples.views.requests import HtmxHttpRequest

log = logging.getLogger(__name__)


@role_required(Role.REVIEWER, Role.COMPLIANCE)
def review_list(request: HttpRequest) -> HttpResponse:
    return render(request, "samples/review_list.html", _context(request, queue=review_queue()))


@require_POST
@role_required(Role.REVIEWER)
def review_sign(request: HtmxHttpRequest) -> HttpResponse:
    """Sign the ticked samples in one signing act (one entry of the signer's components)."""
    return _sign(request, request.POST.getlist("barcode"))


@require_POST
@role_required(Role.REVIEWER)
def review_verify(request: HtmxHttpRequest, barcode: str) -> HttpResponse:
    """Sign one sample (a form or link that names it)."""
    return _sign(request, [barcode])


def _context(request: HttpRequest, **extra: object) -> dict[str, object]:
    reviewer = has_role(request.user, Role.REVIEWER)
    warning = ""
    if reviewer and attempts_left(request, request.user) == 1:
        warning = last_attempt_warning()
    return {
        "meaning": MEANING,
        "is_reviewer": reviewer,
        "warning": warning,
        "user_id_needed": reviewer and user_id_needed(request, request.user),
        **extra,
    }


def _sign(request: HtmxHttpRequest, barcodes: list[str]) -> HttpResponse:
    try:
        outcomes = services.samples_verify(
            user=request.user,
            barcodes=barcodes,
            password=request.POST.get("password", ""),
            username=request.POST.get("username"),
            request=request,
        )
    except AccountLocked:
        return locked_out(request)
    except LabError as refusal:  # wrong user id or password, nothing ticked: nothing signed
        if request.htmx:
            context = _context(request, refusal=refusal.message)
            return render(request, "samples/review_list.html#sign-bar", context)
        messages.error(request, refusal.message)
        return redirect(reverse("samples:review_list") + "#sign-form")
    signed = [o for o in outcomes if o.signature is not None]
    failed = [o for o in outcomes if o.signature is None]
    summary = _summary(signed)
    not_signed = " ".join(f"{o.barcode} not signed: {o.error}" for o in failed)
    if request.htmx:
        context = _context(request, outcomes=outcomes, summary=summary, refusal=not_signed)
        return render(request, "samples/_review_signed.html", context)
    if summary:
        messages.success(request, summary)
    for outcome in failed:
        messages.error(request, f"{outcome.barcode} not signed: {outcome.error}")
    anchor = f"#review-{failed[0].barcode}" if failed else "#sign-form"
    return redirect(reverse("samples:review_list") + anchor)


def _summary(signed: list[SignOutcome]) -> str:
    if not signed:
        return ""
    first = signed[0].signature
    assert first is not None
    names = ", ".join(o.barcode for o in signed)
    return (
        f"{names} {first.meaning} by {first.printed_name}; "
        f"{'its report is' if len(signed) == 1 else 'their reports are'} being prepared."
    )


@require_POST
@role_required(Role.REVIEWER)
@refusal_as_message(back="samples:review_list", text="{barcode}: {refusal}")
def review_retest(request: HttpRequest, barcode: str) -> HttpResponse:
    done = services.sample_send_to_retest(
        user=request.user,
        barcode=barcode,
        assay_code=request.POST.get("assay", ""),
        reason=request.POST.get("reason", ""),
    )
    messages.success(request, done)
    return redirect("samples:review_list")


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def report_pdf(request: HttpRequest, barcode: str) -> HttpResponse:
    """The sample's newest report (the original, or the latest corrected one)."""
    report = Report.objects.filter(sample__barcode=barcode).order_by("-number").first()
    if report is None:
        raise Http404(f"{barcode} has no report yet: it is written once the sample is released.")
    return _served(request, report, newest=True)


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def report_version_pdf(request: HttpRequest, barcode: str, number: int) -> HttpResponse:
    """One report of the sample by its number, as it was released (a replaced one too)."""
    report = Report.objects.filter(sample__barcode=barcode, number=number).first()
    if report is None:
        raise Http404(f"{barcode} has no report {number}.")
    newest = not Report.objects.filter(sample=report.sample, number__gt=number).exists()
    return _served(request, report, newest=newest)


def _served(request: HttpRequest, report: Report, *, newest: bool) -> HttpResponse:
    barcode = report.sample.barcode
    pdf = bytes(report.pdf)
    found, intact = content_checked(report, "pdf")
    if not intact:
        # Never served as the report released: the lab would hand on a changed file.
        log.error(
            "report %s of %s: the stored PDF does not match its recorded SHA-256 (%s, now %s)",
            *(report.number, barcode, report.sha256, found),
        )
        context = {
            "barcode": barcode,
            "recorded": report.sha256,
            "found": found,
            "stored_at": utc_text(report.created_at),
        }
        return render(request, "samples/report_not_intact.html", context, status=409)
    signature = (
        report.signature
        or report.sample.signatures.filter(signed_at__lte=report.created_at)
        .order_by("signed_at")
        .last()
    )
    if (
        newest
        and signature is not None
        and not signature_valid(report.sample, signature.content_sha256)
    ):
        # The report as released stays stored; what is served now says it no longer holds.
        replaced = report.replaces
        pdf = render_report(
            report.sample,
            current_results(report.sample),
            signature,
            number=report.number,
            at=report.created_at,
            replaces=Replaced(replaced.number, replaced.created_at, replaced.sha256)
            if replaced
            else None,
            signature_valid=False,
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"labtrack-{barcode}" + (f"-report-{report.number}" if report.number > 1 else "")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response
