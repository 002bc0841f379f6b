"""The scan station and the sample pages: what technicians and reviewers use at the bench.

Pages work as full pages; with htmx the server answers the named partial instead (the
keyboard side of the scan station is ``static/js/scan.js``). A refusal (unknown barcode, an
action not allowed now, a missing reason) answers 4xx with the card and a loud message, and
changes nothing; a role refusal answers 403. Messages go to the page's message area, not into
the card, so the card's refreshes never take them away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from samples import services
from samples.errors import LabError
from samples.models import ReceiptCondition, SampleState
from samples.roles import Role, has_role, role_required
from samples.selectors import corrections, signatures, specimens
from samples.selectors.critical import sample_critical
from samples.selectors.timeline import sample_timeline
from samples.values.codes import code_clean
from samples.views.critical import form_context
from samples.views.errors import refusal_status
from samples.views.requests import HtmxHttpRequest

BENCH_ROLES = (Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
STOP_POLLING = 286  # htmx stops polling an element answered with this status


@role_required(Role.TECHNICIAN, Role.REVIEWER)
def scan(request: HtmxHttpRequest) -> HttpResponse:
    """One focused field; a scanned barcode (posted, or ``?barcode=`` in a link) shows its
    sample's card."""
    context: dict[str, Any] = {"conditions": ReceiptCondition.choices}
    status = 200
    source = request.POST if request.method == "POST" else request.GET
    barcode = source.get("barcode")
    if barcode is not None:
        sample = specimens.sample_find(barcode)
        if sample is None:
            shown = code_clean(barcode) or "(empty)"
            context["error"] = f"Unknown barcode {shown}: no sample is registered under it."
            status = 404
        else:
            context["card"] = specimens.sample_card(sample, request.user)
    template = "samples/scan.html#scan-result" if request.htmx else "samples/scan.html"
    return render(request, template, context, status=status)


@role_required(*BENCH_ROLES)
def sample_card(request: HtmxHttpRequest, barcode: str) -> HttpResponse:
    """The card alone, polled by the page until the sample reaches a final state."""
    card = specimens.sample_card(sample_or_404(barcode), request.user)
    context = {"card": card, "conditions": ReceiptCondition.choices}
    return render(request, "samples/_card.html", context,
                  status=STOP_POLLING if card.final and request.htmx else 200)  # fmt: skip


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(Role.TECHNICIAN)
def sample_action(request: HtmxHttpRequest, barcode: str, action: str) -> HttpResponse:
    """Receive, reject or add to the open batch; answers the updated card with what happened.

    The action signals the sample's lifecycle, whose steps record the change on a worker; the
    answer waits until the lifecycle has reached its next wait (up to
    ``BENCH_ACTION_WAIT_SECONDS``), so the card shows the new state, the next action and what
    the lifecycle waits for now, and the message never claims more than the card shows. The message
    goes to the page's message area, which the card's refreshes leave alone.

    Sent as a plain form (no htmx, or a card's form htmx has not wired up yet) the answer is the
    whole scan station with the card and the message; a GET (a link, a reload) is sent there.
    """
    sample = sample_or_404(barcode)
    if action not in ACTIONS:
        raise Http404("No such action.")
    if request.method != "POST":
        return redirect(f"{reverse('samples:scan')}?{urlencode({'barcode': sample.barcode})}")
    context: dict[str, Any] = {"conditions": ReceiptCondition.choices}
    status = 200
    try:
        done = ACTIONS[action].run(request, sample.barcode)
    except LabError as refusal:
        context["error"], status = refusal.message, refusal_status(refusal)
    else:
        context["notice"], sample = settled(sample, ACTIONS[action], done)
    context["card"] = specimens.sample_card(sample, request.user)
    template = "samples/_action_answer.html" if request.htmx else "samples/scan.html"
    return render(request, template, context, status=status)


@dataclass(frozen=True)
class BenchAction:
    run: Callable[[HttpRequest, str], services.Done]
    leads_to: tuple[str, ...]  # the states its lifecycle step moves the sample to
    recorded: str  # what is recorded, while the lifecycle has not moved the sample yet


ACTIONS = {
    "receive": BenchAction(
        lambda request, barcode: services.sample_receive(
            user=request.user, barcode=barcode, condition=request.POST.get("condition", "")
        ),
        (SampleState.RECEIVED,),
        "receipt",
    ),
    "reject": BenchAction(
        lambda request, barcode: services.sample_reject(
            user=request.user, barcode=barcode, reason=request.POST.get("reason", "")
        ),
        (SampleState.REJECTED,),
        "rejection",
    ),
    "batch": BenchAction(
        lambda request, barcode: services.sample_request_batch(user=request.user, barcode=barcode),
        (SampleState.AWAITING_BATCH, SampleState.IN_BATCH),
        "request for the open batch",
    ),
}


def settled(sample: Any, action: BenchAction, done: services.Done) -> tuple[str, Any]:
    """What to say of a done action, and the sample as its lifecycle has left it by then."""
    if not done.changed:  # nothing new was recorded: the message speaks of the sample as it is
        return done.message, sample
    sample = specimens.sample_settled(sample, seconds=settings.BENCH_ACTION_WAIT_SECONDS)
    if sample.state in action.leads_to:
        return done.message, sample
    return f"{sample.barcode}: {action.recorded} recorded; its lifecycle moves it on.", sample


@role_required(*BENCH_ROLES)
def sample_detail(request: HttpRequest, barcode: str) -> HttpResponse:
    return render(
        request, "samples/sample_detail.html", detail_context(sample_or_404(barcode), request)
    )


def detail_context(sample: Any, request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """The sample page: its card, signatures (still valid or not), corrections, every report
    (the original and the corrected ones), timeline."""
    card = specimens.sample_card(sample, request.user)
    first_values = corrections.amendments(sample)
    return {
        "card": card,
        "result_rows": [(r, first_values.get(r.pk)) for r in card.results],
        "timeline": sample_timeline(sample),
        "reports": specimens.sample_reports(sample),
        "conditions": ReceiptCondition.choices,
        "signatures": signatures.signatures_checked(sample),
        "critical": sample_critical(sample),
        **form_context(request),
        "may_amend": has_role(request.user, Role.TECHNICIAN, Role.REVIEWER),
        "may_amend_condition": has_role(request.user, Role.TECHNICIAN)
        and sample.received_at is not None,
        "first_condition": corrections.first_condition(sample)
        if sample.condition_amended_at
        else "",
        **extra,
    }


def sample_or_404(barcode: str) -> Any:
    sample = specimens.sample_find(barcode)
    if sample is None:
        raise Http404(f"No sample has the barcode {barcode}.")
    return sample
