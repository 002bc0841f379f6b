"""The batch board: open, closed and running batches with their plate maps (controls too);
starting a run; entering a result, or a control's result, by hand when an instrument is down (a
reason is required; a refused entry comes back with what was typed and why it was refused)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples import services
from samples.errors import LabError
from samples.models import BatchStatus, Instrument
from samples.roles import Role, role_required
from samples.selectors import batches
from samples.values.bounds import whole_number
from samples.views.errors import refusal_as_message, refusal_status


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def batch_list(request: HttpRequest) -> HttpResponse:
    return _board(request)


def _board(
    request: HttpRequest,
    *,
    status: int = 200,
    entered: dict[str, Any] | None = None,
    entered_control: dict[str, Any] | None = None,
) -> HttpResponse:
    """The board; ``entered`` (``entered_control``): a refused entry by hand of a sample's
    (control's) result, shown again in its batch's form (or, when that form is no longer
    there, its refusal at the top of the page)."""
    board = batches.batch_board()
    if entered is not None:
        entered["shown"] = any(
            view.batch.pk == entered["batch"]
            and view.batch.status == BatchStatus.RUNNING
            and view.waiting
            for view in board
        )
    if entered_control is not None:
        entered_control["shown"] = any(
            view.batch.pk == entered_control["batch"]
            and view.batch.status == BatchStatus.RUNNING
            and view.controls_waiting
            for view in board
        )
    context = {
        "board": board,
        "instruments": Instrument.objects.filter(is_active=True).prefetch_related("assays"),
        "entered": entered,
        "entered_control": entered_control,
    }
    return render(request, "samples/batch_list.html", context, status=status)


@require_POST
@role_required(Role.TECHNICIAN)
@refusal_as_message(back="samples:batch_list")
def batch_start(request: HttpRequest, batch_id: int) -> HttpResponse:
    raw = request.POST.get("instrument") or None
    instrument_id = whole_number(raw) if raw else None
    if raw and instrument_id is None:
        raise LabError("Choose an instrument from the list.", field="instrument")
    services.batch_start_run(user=request.user, batch_id=batch_id, instrument_id=instrument_id)
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
        # The board again, with the form as it was typed and the reason it was refused.
        entered = {
            "batch": batch_id,
            "barcode": barcode,
            "value": request.POST.get("value", ""),
            "reason": request.POST.get("reason", ""),
            "error": refusal.message,
        }
        return _board(request, status=refusal_status(refusal), entered=entered)
    messages.success(
        request,
        f"{result.assay.code} {result.shown} recorded for {result.sample.barcode}.",
    )
    return redirect("samples:batch_list")


@require_POST
@role_required(Role.TECHNICIAN)
def batch_control(request: HttpRequest, batch_id: int) -> HttpResponse:
    """A control's result entered by hand for a control position of a running batch."""
    code = request.POST.get("control", "")
    try:
        recorded = services.control_record(
            code=code,
            value=request.POST.get("value", ""),
            user=request.user,
            reason=request.POST.get("reason", ""),
            batch_id=batch_id,
        )
    except LabError as refusal:
        entered = {
            "batch": batch_id,
            "control": code,
            "value": request.POST.get("value", ""),
            "reason": request.POST.get("reason", ""),
            "error": refusal.message,
        }
        return _board(request, status=refusal_status(refusal), entered_control=entered)
    result = recorded.result
    rules = f" ({', '.join(result.rules)})" if result.rules else ""
    messages.success(
        request,
        f"Control {result.lot.code} {result.value.normalize():f} {result.units} recorded in "
        f"batch {batch_id}: {result.get_verdict_display().lower()}{rules}.",
    )
    return redirect("samples:batch_list")
