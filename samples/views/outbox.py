"""The outbox: every result message sent to an ordering system, by status (sent,
acknowledged, failing, parked), with its attempts, last error and the ACK received. A
supervisor (reviewer) sends a failing or parked message again, with a reason; from the page
(htmx) the answer replaces only that message's row. A refusal (no reason, a message no longer
failing or parked) comes back in the row with what was typed: 400 or 409, never a change."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples.errors import LabError, NotAllowed
from samples.models import OutboundMessage, OutboundStatus
from samples.roles import Role, has_role, role_required
from samples.selectors.outbox import PAGE, outbox_counts, outbox_messages
from samples.services.outbox import RESENDABLE, outbox_resend
from samples.views.errors import refusal_status
from samples.views.requests import HtmxHttpRequest

READERS = (Role.REVIEWER, Role.COMPLIANCE, Role.ADMIN)


@role_required(*READERS)
def outbox(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _page(
    request: HttpRequest, *, status_code: int = 200, entered: dict[str, object] | None = None
) -> HttpResponse:
    """The page; ``entered``: a refused re-send, shown again in its message's row."""
    status = request.GET.get("status", "")
    problem = ""
    if status and status not in OutboundStatus.values:
        problem = f"{status[:40]!r} is not a status: showing every message."
        status = ""
    counts = outbox_counts()
    context = {
        "messages_out": list(outbox_messages(status)),
        "statuses": [(value, label, counts[value]) for value, label in OutboundStatus.choices],
        "status": status,
        "problem": problem,
        "page": PAGE,
        "entered": entered or {},
        **_row_context(request),
    }
    return render(request, "samples/outbox.html", context, status=status_code)


@require_POST
@role_required(*READERS)
def outbox_resend_view(request: HtmxHttpRequest, message_id: int) -> HttpResponse:
    message = OutboundMessage.objects.select_related("sample", "destination").filter(pk=message_id)
    if not message.exists():
        raise Http404("No such message.")
    reason = request.POST.get("reason", "")
    try:
        outbox_resend(user=request.user, message_id=message_id, reason=reason)
    except NotAllowed as refusal:
        return HttpResponse(refusal.message, status=403, content_type="text/plain")
    except LabError as refusal:
        if not request.htmx:
            entered = {"message": message_id, "error": refusal.message, "reason": reason}
            return _page(request, status_code=refusal_status(refusal), entered=entered)
        return _row(request, message_id, status=refusal_status(refusal),
                    error=refusal.message, reason=reason)  # fmt: skip
    if request.htmx:
        return _row(request, message_id, done="Sent again: its progress shows here.")
    return redirect("samples:outbox")


def _row_context(request: HttpRequest) -> dict[str, object]:
    return {
        "can_resend": has_role(request.user, Role.REVIEWER),
        "resendable": [str(s) for s in RESENDABLE],
    }


def _row(request: HttpRequest, message_id: int, *, status: int = 200, **extra: str) -> HttpResponse:
    message = (
        OutboundMessage.objects.select_related("sample", "destination", "resent_by")
        .defer("payload")
        .get(pk=message_id)
    )
    context = {"message": message, **_row_context(request), **extra}
    return render(request, "samples/_outbox_row.html", context, status=status)
