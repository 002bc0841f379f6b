"""Review: resulted samples waiting for verification. A reviewer verifies with an electronic
signature (password entered again, meaning "reviewed and released") or sends one assay back
for a retest with a reason. The report of a released sample is downloaded from here."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples import selectors, services
from samples.errors import LabError
from samples.models import Report
from samples.reports import render_report
from samples.roles import Role, role_required
from samples.services.amendments import signature_valid
from samples.services.results import MEANING, current_results


@role_required(Role.REVIEWER, Role.COMPLIANCE)
def review_list(request: HttpRequest) -> HttpResponse:
    context = {"queue": selectors.review_queue(), "meaning": MEANING}
    return render(request, "samples/review_list.html", context)


@require_POST
@role_required(Role.REVIEWER)
def review_verify(request: HttpRequest, barcode: str) -> HttpResponse:
    try:
        signature = services.sample_verify(
            user=request.user,
            barcode=barcode,
            password=request.POST.get("password", ""),
            request=request,
        )
    except LabError as refusal:
        messages.error(request, f"{barcode}: {refusal.message}")
    else:
        messages.success(
            request,
            f"{barcode} {signature.meaning} by {signature.printed_name}; "
            "its report is being prepared.",
        )
    return redirect("samples:review_list")


@require_POST
@role_required(Role.REVIEWER)
def review_retest(request: HttpRequest, barcode: str) -> HttpResponse:
    try:
        done = services.sample_send_to_retest(
            user=request.user,
            barcode=barcode,
            assay_code=request.POST.get("assay", ""),
            reason=request.POST.get("reason", ""),
        )
    except LabError as refusal:
        messages.error(request, f"{barcode}: {refusal.message}")
    else:
        messages.success(request, done)
    return redirect("samples:review_list")


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def report_pdf(request: HttpRequest, barcode: str) -> HttpResponse:
    report = Report.objects.filter(sample__barcode=barcode).first()
    if report is None:
        raise Http404(f"{barcode} has no report yet: it is written once the sample is released.")
    pdf = bytes(report.pdf)
    signature = report.sample.signatures.order_by("signed_at").last()
    if signature is not None and not signature_valid(report.sample, signature.content_sha256):
        # The report as released stays stored; what is served now says it no longer holds.
        pdf = render_report(
            report.sample, current_results(report.sample), signature, signature_valid=False
        )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="labtrack-{barcode}.pdf"'
    return response
