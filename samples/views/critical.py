"""Critical values: the page of the open ones (oldest first, the time left before each SLA
ends, or how long ago it did) and the call form, inline there and on the sample page. A
technician or a reviewer records a call; from the page (htmx) the answer replaces that
notification's box. A refusal (an unknown outcome, a read-back that is not the value, a
notification already closed) comes back in the box with what was typed: 400 or 409, and
nothing recorded. A compliance officer reads the page."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from samples import services
from samples.errors import LabError, NotAllowed
from samples.models import CALLED_OUTCOMES, CriticalNotification
from samples.roles import Role, has_role, role_required
from samples.selectors.critical import critical_item, critical_open_list
from samples.views.errors import refusal_status
from samples.views.requests import HtmxHttpRequest

READERS = (Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
CALLERS = (Role.TECHNICIAN, Role.REVIEWER)
FIELDS = ("called_name", "called_where", "called_at", "read_back", "outcome")
STOP_POLLING = 286
# What a person may record (``withdrawn`` is recorded by a correction).
CALLED_CHOICES = [(outcome.value, outcome.label) for outcome in CALLED_OUTCOMES]


def form_context(request: HttpRequest) -> dict[str, Any]:
    """What the call form needs on any page that shows it."""
    return {"may_call": has_role(request.user, *CALLERS), "call_outcomes": CALLED_CHOICES}


@role_required(*READERS)
def critical_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


def _page(
    request: HttpRequest, *, status: int = 200, entered: dict[str, Any] | None = None
) -> HttpResponse:
    items = critical_open_list()
    entered = entered or {}
    # A refusal about a notification no longer listed (closed) is said at the top.
    listed = {item.notification.pk for item in items}
    elsewhere = entered.get("error", "") if entered.get("notification") not in listed else ""
    context = {"items": items, "entered": entered, "elsewhere": elsewhere, **form_context(request)}
    return render(request, "samples/critical_list.html", context, status=status)


@role_required(*READERS)
def critical_box(request: HtmxHttpRequest, notification_id: int) -> HttpResponse:
    """One notification's box, polled while a closing call waits for its workflow."""
    item = critical_item(notification_id)
    if item is None:
        raise Http404("No such notification.")
    done = not item.notification.is_open
    return _box(request, item, status=STOP_POLLING if done and request.htmx else 200)


@require_POST
@role_required(*READERS)
def critical_call(request: HtmxHttpRequest, notification_id: int) -> HttpResponse:
    notification = (
        CriticalNotification.objects.select_related("sample", "result__assay")
        .filter(pk=notification_id)
        .first()
    )
    if notification is None:
        raise Http404("No such notification.")
    typed = {name: request.POST.get(name, "") for name in FIELDS}
    try:
        services.critical_call_record(
            user=request.user,
            barcode=notification.sample.barcode,
            assay=notification.result.assay.code,
            notification_id=notification.pk,
            **typed,
        )
    except NotAllowed as refusal:
        return HttpResponse(refusal.message, status=403, content_type="text/plain")
    except LabError as refusal:
        entered = {"notification": notification_id, "error": refusal.message, **typed}
        if request.htmx:
            item = critical_item(notification_id)
            assert item is not None
            return _box(request, item, status=refusal_status(refusal), entered=entered)
        return _page(request, status=refusal_status(refusal), entered=entered)
    if request.htmx:
        item = critical_item(notification_id)
        assert item is not None
        return _box(request, item, done="Call recorded.")
    return redirect(request.POST.get("back") or "samples:critical_list")


def _box(
    request: HttpRequest,
    item: Any,
    *,
    status: int = 200,
    entered: dict[str, Any] | None = None,
    done: str = "",
) -> HttpResponse:
    context = {"item": item, "entered": entered or {}, "done": done, **form_context(request)}
    return render(request, "samples/_critical_box.html", context, status=status)
