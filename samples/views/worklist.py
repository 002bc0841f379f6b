"""The sample worklist: every sample, filtered by state, assay and overdue, a page at a time,
each with what its lifecycle waits for (in the lab's words)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from samples.models import Assay, SampleState
from samples.roles import Role, role_required
from samples.selectors import specimens

PAGE_SIZE = 50


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def sample_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    assay = request.GET.get("assay", "")
    overdue = request.GET.get("overdue") == "1"
    problems = []
    if state and state not in SampleState.values:
        problems.append(f"There is no state {state!r}: showing every state.")
        state = ""
    codes = list(Assay.objects.values_list("code", flat=True))
    if assay and assay not in codes:
        problems.append(f"There is no assay {assay!r}: showing every assay.")
        assay = ""
    samples = specimens.sample_worklist(state=state, assay=assay, overdue=overdue)
    page = Paginator(samples, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    waiting = specimens.samples_waiting(shown)  # one query for the page's waits
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "rows": [(sample, waiting[sample.pk]) for sample in shown],
        "states": SampleState.choices,
        "assays": codes,
        "chosen": {"state": state, "assay": assay, "overdue": overdue},
        "problems": problems,
        "query": query.urlencode(),
    }
    return render(request, "samples/sample_list.html", context, status=400 if problems else 200)
