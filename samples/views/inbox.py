"""The unmatched-results inbox: results that matched no waiting sample or could not be read,
kept for a technician to match to the right sample or discard, each with a reason; below them,
the messages not taken (rejected, or a control id reused with other content). A refused match
or discard comes back with what was typed and why it was refused."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples.errors import LabError
from samples.models import UnmatchedResult
from samples.roles import Role, role_required
from samples.selectors.messages import NOT_TAKEN_DAYS, messages_not_taken
from samples.services.intake import unmatched_discard, unmatched_match
from samples.views.errors import refusal_status


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def inbox(request: HttpRequest) -> HttpResponse:
    return _inbox(request)


def _inbox(
    request: HttpRequest, *, status: int = 200, entered: dict[str, Any] | None = None
) -> HttpResponse:
    """The open entries; ``entered``: a refused match or discard, shown again in its entry's
    form (or, when the entry is no longer open, its refusal at the top of the page)."""
    entries = list(
        UnmatchedResult.objects.filter(resolved_at__isnull=True).select_related("instrument")
    )
    if entered is not None:
        entered["shown"] = any(entry.pk == entered["entry"] for entry in entries)
    context = {
        "entries": entries,
        "entered": entered,
        "not_taken": messages_not_taken()[:200],
        "not_taken_days": NOT_TAKEN_DAYS,
    }
    return render(request, "samples/inbox.html", context, status=status)


@require_POST
@role_required(Role.TECHNICIAN)
def inbox_resolve(request: HttpRequest, entry_id: int) -> HttpResponse:
    reason = request.POST.get("reason", "")
    action = "match" if request.POST.get("action") == "match" else "discard"
    try:
        if action == "match":
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
        # The inbox again, with the form as it was typed and the reason it was refused.
        entered = {
            "entry": entry_id,
            "action": action,
            "barcode": request.POST.get("barcode", ""),
            "reason": reason,
            "error": f"Entry {entry_id}: {refusal.message}",
        }
        return _inbox(request, status=refusal_status(refusal), entered=entered)
    return redirect("samples:inbox")
