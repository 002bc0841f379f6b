"""The operations console's list of workflow runs: counts per status, filters, search by the
sample or batch a run belongs to, a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from samples.roles import Role, role_required
from samples.selectors_runs import runs_named, with_keys
from workflows.api import RunFilter, runs_counts, runs_list, workflow_versions

STATUSES = ["running", "waiting", "blocked", "failed", "completed", "cancelled"]
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
        if given["version"].strip().isdigit():
            version = int(given["version"])
        else:
            problems.append("The version is a whole number, like 2.")
    waiting = None
    if given.get("waiting", "").strip():
        try:
            hours = Decimal(given["waiting"].strip())
            if not hours.is_finite() or hours < 0 or hours > 100_000:
                raise InvalidOperation
            waiting = timedelta(hours=float(hours))
        except InvalidOperation:
            problems.append("Waiting longer than is a number of hours, like 4 or 0.5.")
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
    micros, _, run_id = token.partition("_")
    if not micros.isdigit() or not run_id:
        return None
    return EPOCH + timedelta(microseconds=int(micros)), run_id


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
