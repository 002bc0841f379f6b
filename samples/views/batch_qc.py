"""A batch's run and its quality control: its controls and their results, why its patient
results are held, and, for a run rejected by QC, the supervisor's decision (a reviewer): run the
batch again, or accept the run with a reason and an e-signature (the password, and the user id
at the session's first signing). A refused decision comes back on the page with its reason and
what was typed; nothing changed."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples import services
from samples.errors import LabError
from samples.models import QcDecisionKind
from samples.roles import Role, has_role, role_required
from samples.selectors.qc_holds import batch_qc
from samples.services.qc_decisions import MEANINGS
from samples.services.signer import AccountLocked, user_id_needed
from samples.views.errors import locked_out, refusal_status


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def batch_qc_page(request: HttpRequest, batch_id: int) -> HttpResponse:
    return _page(request, batch_id)


@require_POST
@role_required(Role.REVIEWER)
def batch_qc_decide(request: HttpRequest, batch_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    reason = request.POST.get("reason", "")
    try:
        made = services.qc_decide(
            user=request.user,
            batch_id=batch_id,
            decision=decision,
            reason=reason,
            password=request.POST.get("password", ""),
            username=request.POST.get("username"),
            request=request,
        )
    except AccountLocked:
        return locked_out(request)
    except LabError as refusal:
        entered = {"decision": decision, "reason": reason, "error": refusal.message}
        return _page(request, batch_id, status=refusal_status(refusal), entered=entered)
    if made.decision == QcDecisionKind.ACCEPT:
        messages.success(
            request,
            f"Batch {batch_id}: run {made.meaning} by {made.printed_name}; its results may now "
            "be verified.",
        )
    else:
        messages.success(
            request,
            f"Batch {batch_id} {made.meaning} by {made.printed_name}: its samples go back for "
            "a retest, into the open batch.",
        )
    return redirect("samples:batch_qc", batch_id=batch_id)


def _page(
    request: HttpRequest, batch_id: int, *, status: int = 200, entered: dict[str, Any] | None = None
) -> HttpResponse:
    found = batch_qc(batch_id)
    if found is None:
        raise Http404(f"There is no batch {batch_id}.")
    supervisor = has_role(request.user, Role.REVIEWER)
    context = {
        "qc": found,
        "batch": found.batch,
        "is_supervisor": supervisor,
        "user_id_needed": supervisor and user_id_needed(request, request.user),
        "meanings": {kind.value: MEANINGS[kind] for kind in QcDecisionKind},
        "entered": entered or {},
    }
    return render(request, "samples/batch_qc.html", context, status=status)
