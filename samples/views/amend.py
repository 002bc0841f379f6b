"""Corrections from the sample page, each with a reason (COMPLIANCE.md C3): a result's value,
the condition at receipt."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples import services
from samples.errors import LabError
from samples.roles import role_required
from samples.views.bench import BENCH_ROLES, detail_context, sample_or_404
from samples.views.errors import refusal_status


@require_POST
@role_required(*BENCH_ROLES)
def result_amend(request: HttpRequest, barcode: str, result_id: int) -> HttpResponse:
    sample = sample_or_404(barcode)
    if not sample.results.filter(pk=result_id).exists():
        return _refused(request, sample, result_id, f"{sample.barcode} has no result {result_id}.")
    try:
        result = services.result_amend(
            user=request.user,
            result_id=result_id,
            value=request.POST.get("value", ""),
            reason=request.POST.get("reason", ""),
        )
    except LabError as refusal:
        return _refused(request, sample, result_id, refusal.message, refusal_status(refusal))
    messages.success(
        request,
        f"{result.assay.code} corrected to {result.shown}; "
        f"flag: {result.interpretation or 'none'}.",
    )
    return redirect("samples:sample_detail", barcode=sample.barcode)


def _refused(
    request: HttpRequest, sample: object, result_id: int, error: str, status: int = 400
) -> HttpResponse:
    context = detail_context(
        sample,
        request,
        amend_error=error,
        amend_result=result_id,
        amend_value=request.POST.get("value", ""),
        amend_reason=request.POST.get("reason", ""),
    )
    return render(request, "samples/sample_detail.html", context, status=status)


@require_POST
@role_required(*BENCH_ROLES)
def condition_amend(request: HttpRequest, barcode: str) -> HttpResponse:
    sample = sample_or_404(barcode)
    try:
        services.sample_amend_condition(
            user=request.user,
            barcode=sample.barcode,
            condition=request.POST.get("condition", ""),
            reason=request.POST.get("reason", ""),
        )
    except LabError as refusal:
        context = detail_context(sample, request, condition_error=refusal.message)
        return render(
            request, "samples/sample_detail.html", context, status=refusal_status(refusal)
        )
    messages.success(request, f"The condition at receipt of {sample.barcode} was corrected.")
    return redirect("samples:sample_detail", barcode=sample.barcode)
