"""Deploy safety: before anyone is affected, which unfinished runs the code now loaded would
block, grouped by workflow and version (the same check as ``manage.py workflows replay``).

Reading the page is cheap; the check replays up to ``PAGE_LIMIT`` runs, so it runs only on a
POST from the page's own form (with its CSRF token): no link, image or other site can make a
signed-in browser start it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from samples.roles import Role, role_required
from workflows.ops import replay_check, unfinished_by_version

# Runs replayed by one check from this page; ``manage.py workflows replay`` checks them all.
PAGE_LIMIT = 5_000


@require_http_methods(["GET", "POST"])
@role_required(Role.REVIEWER, Role.ADMIN, Role.COMPLIANCE)
def deploy_check(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"versions": unfinished_by_version(), "limit": PAGE_LIMIT}
    if request.method == "POST":
        checked, problems = replay_check(PAGE_LIMIT)
        context["checked"] = checked
        context["groups"] = [
            {"workflow": workflow, "version": version, "runs": runs}
            for (workflow, version), runs in sorted(problems.items())
        ]
        context["blocked"] = sum(len(runs) for runs in problems.values())
    return render(request, "samples/deploy_check.html", context)
