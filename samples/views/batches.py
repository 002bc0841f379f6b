"""The batch board: open, closed and running batches with their plate maps; starting a run;
entering a result by hand when an instrument is down (a reason is required)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples import selectors, services
from samples.errors import LabError
from samples.models import Instrument
from samples.roles import Role, role_required


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def batch_list(request: HttpRequest) -> HttpResponse:
    context = {
        "board": selectors.batch_board(),
        "instruments": Instrument.objects.filter(is_active=True).prefetch_related("assays"),
    }
    return render(request, "samples/batch_list.html", context)


@require_POST
@role_required(Role.TECHNICIAN)
def batch_start(request: HttpRequest, batch_id: int) -> HttpResponse:
    raw = request.POST.get("instrument") or None
    try:
        instrument_id = int(raw) if raw else None
        services.batch_start_run(user=request.user, batch_id=batch_id, instrument_id=instrument_id)
    except ValueError:
        messages.error(request, "Choose an instrument from the list.")
    except LabError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(request, f"The run of batch {batch_id} has started.")
    return redirect("samples:batch_list")


@require_POST
@role_required(Role.TECHNICIAN)
def batch_result(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A result entered by hand for a sample of a running batch."""
    barcode = request.POST.get("barcode", "")
    try:
        result = services.result_record(
            barcode=barcode,
            assay_code=request.POST.get("assay", ""),
            value=request.POST.get("value", ""),
            user=request.user,
            reason=request.POST.get("reason", ""),
        )
    except LabError as refusal:
        messages.error(request, refusal.message)
    else:
        messages.success(
            request,
            f"{result.assay.code} {result.value.normalize()} "
            f"{result.units} recorded for {result.sample.barcode}.",
        )
    return redirect("samples:batch_list")
