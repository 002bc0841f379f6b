"""Deploy safety: before anyone is affected, which unfinished runs the code now loaded would
block, grouped by workflow and version (the same check as ``manage.py workflows replay``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from samples.roles import Role, role_required
from workflows.api import replay_check, unfinished_by_version

# Runs replayed by one check from this page; ``manage.py workflows replay`` checks them all.
PAGE_LIMIT = 5_000


@role_required(Role.REVIEWER, Role.ADMIN, Role.COMPLIANCE)
def deploy_check(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"versions": unfinished_by_version(), "limit": PAGE_LIMIT}
    if request.GET.get("check") == "1":
        checked, problems = replay_check(PAGE_LIMIT)
        context["checked"] = checked
        context["groups"] = [
            {"workflow": workflow, "version": version, "runs": runs}
            for (workflow, version), runs in sorted(problems.items())
        ]
        context["blocked"] = sum(len(runs) for runs in problems.values())
    return render(request, "samples/deploy_check.html", context)
