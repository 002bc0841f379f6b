"""The scan station and the sample pages: what technicians and reviewers use at the bench.

Pages work as full pages; with htmx the server answers the named partial instead. A refusal
(unknown barcode, an action not allowed now, a missing reason) answers 4xx with the card and a
loud message, and changes nothing; a role refusal answers 403.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from samples import selectors, services
from samples.errors import LabError, NotAllowed
from samples.models import ReceiptCondition
from samples.roles import Role, has_role, role_required

BENCH_ROLES = (Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
STOP_POLLING = 286  # htmx stops polling an element answered with this status


@role_required(Role.TECHNICIAN, Role.REVIEWER)
def scan(request: HttpRequest) -> HttpResponse:
    """One focused field; a scanned barcode shows its sample's card."""
    context: dict[str, Any] = {"conditions": ReceiptCondition.choices}
    status = 200
    if request.method == "POST":
        barcode = request.POST.get("barcode", "")
        sample = selectors.sample_find(barcode)
        if sample is None:
            shown = barcode.strip().upper() or "(empty)"
            context["error"] = f"Unknown barcode {shown}: no sample is registered under it."
            status = 404
        else:
            context["card"] = selectors.sample_card(sample, request.user)
    template = "samples/scan.html#scan-result" if request.htmx else "samples/scan.html"
    return render(request, template, context, status=status)


@role_required(*BENCH_ROLES)
def sample_card(request: HttpRequest, barcode: str) -> HttpResponse:
    """The card alone, polled by the page until the sample reaches a final state."""
    card = selectors.sample_card(sample_or_404(barcode), request.user)
    context = {"card": card, "conditions": ReceiptCondition.choices}
    return render(request, "samples/_card.html", context,
                  status=STOP_POLLING if card.final and request.htmx else 200)  # fmt: skip


@require_POST
@role_required(Role.TECHNICIAN)
def sample_action(request: HttpRequest, barcode: str, action: str) -> HttpResponse:
    """Receive, reject or add to the open batch; answers the updated card with what happened."""
    sample = sample_or_404(barcode)
    context: dict[str, Any] = {"conditions": ReceiptCondition.choices}
    status = 200
    try:
        if action == "receive":
            done = services.sample_receive(
                user=request.user, barcode=sample.barcode,
                condition=request.POST.get("condition", ""),
            )  # fmt: skip
        elif action == "reject":
            done = services.sample_reject(
                user=request.user, barcode=sample.barcode, reason=request.POST.get("reason", "")
            )
        elif action == "batch":
            done = services.sample_request_batch(user=request.user, barcode=sample.barcode)
        else:
            raise Http404("No such action.")
        context["notice"] = done.message
    except NotAllowed as refusal:
        context["error"], status = refusal.message, 403
    except LabError as refusal:
        context["error"] = refusal.message
        status = 400 if refusal.field else 409
    context["card"] = selectors.sample_card(sample, request.user)
    return render(request, "samples/_card.html", context, status=status)


@role_required(*BENCH_ROLES)
def sample_detail(request: HttpRequest, barcode: str) -> HttpResponse:
    return render(
        request, "samples/sample_detail.html", detail_context(sample_or_404(barcode), request)
    )


def detail_context(sample: Any, request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """The sample page: its card, signatures (still valid or not), corrections, timeline."""
    card = selectors.sample_card(sample, request.user)
    first_values = services.amendments(sample)
    return {
        "card": card,
        "result_rows": [(r, first_values.get(r.pk)) for r in card.results],
        "timeline": selectors.sample_timeline(sample),
        "conditions": ReceiptCondition.choices,
        "signatures": services.signatures_checked(sample),
        "may_amend": has_role(request.user, Role.TECHNICIAN, Role.REVIEWER),
        "may_amend_condition": has_role(request.user, Role.TECHNICIAN)
        and sample.received_at is not None,
        "first_condition": services.first_condition(sample) if sample.condition_amended_at else "",
        **extra,
    }


def sample_or_404(barcode: str) -> Any:
    sample = selectors.sample_find(barcode)
    if sample is None:
        raise Http404(f"No sample has the barcode {barcode}.")
    return sample
