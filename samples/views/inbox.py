"""The unmatched-results inbox: results that matched no waiting sample, kept for a technician
to match to the right sample or discard, each with a reason."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples.errors import LabError
from samples.models import UnmatchedResult
from samples.roles import Role, role_required
from samples.services.intake import unmatched_discard, unmatched_match


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def inbox(request: HttpRequest) -> HttpResponse:
    entries = UnmatchedResult.objects.filter(resolved_at__isnull=True).select_related("instrument")
    return render(request, "samples/inbox.html", {"entries": entries})


@require_POST
@role_required(Role.TECHNICIAN)
def inbox_resolve(request: HttpRequest, entry_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    try:
        if request.POST.get("action") == "match":
            result = unmatched_match(
                user=request.user,
                entry_id=entry_id,
                barcode=request.POST.get("barcode", ""),
                reason=reason,
            )
            messages.success(
                request,
                f"Entry {entry_id} recorded as {result.assay.code} of {result.sample.barcode}.",
            )
        else:
            unmatched_discard(user=request.user, entry_id=entry_id, reason=reason)
            messages.success(request, f"Entry {entry_id} discarded: {reason.strip()}.")
    except LabError as refusal:
        messages.error(request, f"Entry {entry_id}: {refusal.message}")
    return redirect("samples:inbox")
