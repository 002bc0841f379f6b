"""The operations console: the list of workflow runs (counts per status, filters, search by
the sample or batch a run belongs to, a page at a time) and each run's page (its history as a
timeline, its steps with their attempts and errors), which updates itself while the run moves."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from samples.errors import LabError
from samples.roles import Role, has_role, role_required
from samples.selectors.runs import owner_of, runs_named, with_keys
from samples.selectors.waits import run_words
from samples.selectors.words import kind_name
from samples.values.bounds import number, whole_number
from samples.values.numbers import decimal_point
from samples.views.errors import refusal_as_message
from workflows.api import FINISHED, HistoryEntry, RunInfo, RunNotFound, get_run
from workflows.ops import (
    RunFilter,
    decide,
    intervene,
    interventions_of,
    run_steps,
    runs_counts,
    runs_list,
    workflow_versions,
)

STATUSES = ["running", "waiting", "blocked", "failed", "completed", "cancelled", "superseded"]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _filter(request: HttpRequest) -> tuple[RunFilter, list[str]]:
    """The filter the query string asks for, and what in it could not be used (said on the
    page; the rest still applies)."""
    given, problems = request.GET, []
    status = given.get("status", "")
    if status and status not in STATUSES:
        problems.append(f"There is no status {status!r}.")
        status = ""
    version = None
    if given.get("version", "").strip():
        version = whole_number(given["version"])
        if version is None:
            problems.append("The version is a whole number, like 2.")
    waiting = None
    if given.get("waiting", "").strip():
        try:
            hours = number(decimal_point(given["waiting"], field="waiting"), field="waiting")
            if not hours.is_finite() or hours < 0 or hours > 100_000:
                raise InvalidOperation
            waiting = timedelta(hours=float(hours))
        except (InvalidOperation, LabError):
            problems.append("Waiting longer than is a number of hours, like 4, 0.5 or 0,5.")
    search = given.get("q", "").strip()
    chosen = RunFilter(
        status=status,
        workflow=given.get("workflow", "").strip(),
        version=version,
        stuck=given.get("stuck") == "1",
        waiting_longer=waiting,
        run_ids=runs_named(search) if search else None,
    )
    return chosen, problems


def _page_key(token: str) -> tuple[datetime, str] | None:
    """The key of an older page (``<microseconds since 1970>_<run id>``, as ``run_list``
    writes it), or None, the newest page, for one edited by hand: not digits, a time out of
    range, not a run id."""
    micros, _, run_id = token.partition("_")
    number = whole_number(micros)
    if number is None or not run_id:
        return None
    try:
        return EPOCH + timedelta(microseconds=number), str(uuid.UUID(run_id))
    except (ValueError, OverflowError):
        return None


@role_required(Role.REVIEWER, Role.ADMIN, Role.COMPLIANCE)
def run_list(request: HttpRequest) -> HttpResponse:
    chosen, problems = _filter(request)
    before = _page_key(request.GET.get("before", ""))
    rows, following = runs_list(chosen, before=before)
    query = request.GET.copy()
    query.pop("before", None)
    older = None
    if following is not None:
        at, run_id = following
        query["before"] = f"{(at - EPOCH) // timedelta(microseconds=1)}_{run_id}"
        older = query.urlencode()
    return render(
        request,
        "samples/run_list.html",
        {
            "runs": with_keys(rows),
            "counts": runs_counts(chosen),
            "chosen": chosen,
            "given": request.GET,
            "problems": problems,
            "statuses": STATUSES,
            "workflows": workflow_versions(),
            "older": older,
        },
    )


def _run_or_404(run_id: str) -> RunInfo:
    try:
        return get_run(str(uuid.UUID(run_id)))
    except (ValueError, RunNotFound):
        raise Http404(f"There is no workflow run {run_id}.") from None


def _detail(run_id: str) -> dict[str, Any]:
    run = _run_or_404(run_id)
    kind, key = owner_of(run.id)
    links = {e.kind: e.data for e in run.history if e.kind in ("run_restarted", "run_superseded")}
    return {
        "run": run,
        "waiting": run_words(run) if run.status not in FINISHED else "",
        "kind": kind,
        "key": key,
        "restarted_from": links.get("run_restarted", {}).get("from_run", ""),
        "superseded_by": links.get("run_superseded", {}).get("by_run", ""),
        "events": [_event(entry) for entry in reversed(run.history)],
        "steps": run_steps(run.id),
        "final": run.status in FINISHED,
    }


def _event(entry: HistoryEntry) -> dict[str, Any]:
    """A history event for a person: its kind in words, what failed, the rest as JSON."""
    data = entry.data or {}
    return {
        "entry": entry,
        "kind": kind_name(entry.kind),
        "step": data.get("step") or data.get("name") or "",
        "error": data.get("message") if entry.kind in ("step_failed", "run_failed") else "",
        "payload": json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)
        if data
        else "",
    }


# Who may act on runs: supervisors (the reviewer role) and administrators. Compliance officers
# read the console.
OPERATORS = (Role.REVIEWER, Role.ADMIN)


@role_required(Role.REVIEWER, Role.ADMIN, Role.COMPLIANCE)
def run_detail(request: HttpRequest, run_id: str) -> HttpResponse:
    context = _detail(run_id)
    context["interventions"] = interventions_of(context["run"].id)
    context["may_act"] = has_role(request.user, *OPERATORS)
    return render(request, "samples/run_detail.html", context)


def _run_page(request: HttpRequest, run_id: str) -> str:
    """The page of the run acted on (``run_intervene`` has found it before it acts)."""
    return reverse("samples:run_detail", kwargs={"run_id": str(uuid.UUID(run_id))})


def _form_run_page(request: HttpRequest, intervention_id: int) -> str:
    """The page of the run the form was on, or the list when the form names no run."""
    try:
        run_id = str(uuid.UUID(request.POST.get("run", "")))
    except ValueError:
        return reverse("samples:run_list")
    return reverse("samples:run_detail", kwargs={"run_id": run_id})


@require_POST
@role_required(*OPERATORS)
@refusal_as_message(back=_run_page)
def run_intervene(request: HttpRequest, run_id: str) -> HttpResponse:
    run = _run_or_404(run_id)
    kind = request.POST.get("kind", "")
    chosen_step = request.POST.get("step", "").strip()
    done = intervene(
        run.id,
        kind,
        actor=request.user.get_username(),
        actor_id=request.user.pk,
        reason=request.POST.get("reason", ""),
        step=whole_number(chosen_step) if kind == "restart" else None,
    )
    if done.status == "pending":
        messages.success(request, f"The {kind} waits for a second person's approval.")
    else:
        messages.success(request, f"{kind.title()}: {done.outcome}.")
    return redirect("samples:run_detail", run_id=run.id)


@require_POST
@role_required(*OPERATORS)
@refusal_as_message(back=_form_run_page)
def intervention_decide(request: HttpRequest, intervention_id: int) -> HttpResponse:
    approve = request.POST.get("decision") == "approve"
    done = decide(
        intervention_id,
        actor=request.user.get_username(),
        actor_id=request.user.pk,
        approve=approve,
        reason=request.POST.get("reason", ""),
    )
    if done.status == "done":
        messages.success(request, f"Approved: {done.outcome}.")
    else:
        messages.success(
            request, f"The {done.kind} was not carried out: {done.outcome or 'refused'}."
        )
    return redirect("samples:run_detail", run_id=done.run_id)


@role_required(Role.REVIEWER, Role.ADMIN, Role.COMPLIANCE)
def run_live(request: HttpRequest, run_id: str) -> HttpResponse:
    """The part of the run's page that changes while it moves (polled by htmx)."""
    return render(request, "samples/_run_live.html", _detail(run_id))
