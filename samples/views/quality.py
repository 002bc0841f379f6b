"""The QC page (``/qc/``): control lots by assay and instrument with their latest results and
violations; a lot's Levey-Jennings chart (``/qc/lots/<id>/``), its last results a page at a
time, drawn on the server with a table of the same points beside it."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from samples.documents.charts import levey_jennings
from samples.models import ControlLot
from samples.roles import Role, role_required
from samples.selectors import quality
from samples.values.bounds import whole_number


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def qc_page(request: HttpRequest) -> HttpResponse:
    context = {"rows": quality.qc_lots(), "latest": quality.LATEST}
    return render(request, "samples/qc.html", context)


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def qc_lot(request: HttpRequest, lot_id: int) -> HttpResponse:
    lot = get_object_or_404(
        ControlLot.objects.select_related("material", "assay", "instrument"), pk=lot_id
    )
    page = whole_number(request.GET.get("page")) or 1
    shown = quality.qc_lot_page(lot, page)
    points = [
        (shown.first + i, float(r.value), r.verdict, r.rules) for i, r in enumerate(shown.results)
    ]
    breaking = sum(1 for r in shown.results if r.rules)
    label = (
        f"Levey-Jennings chart of control {lot.code}: results {shown.first} to {shown.last} of "
        f"{shown.total}, target mean {lot.target_mean.normalize():f}, SD "
        f"{lot.target_sd.normalize():f} {lot.assay.units}; {breaking} of them broke a rule."
        if shown.results
        else f"Levey-Jennings chart of control {lot.code}: no result yet."
    )
    chart = levey_jennings(
        label,
        mean=float(lot.target_mean),
        sd=float(lot.target_sd),
        points=points,
        unit=f" {lot.assay.units}" if lot.assay.units else "",
    )
    rows = list(zip(range(shown.first, shown.last + 1), shown.results, strict=True))
    context = {
        "lot": lot,
        "shown": shown,
        "chart": chart,
        "rows": rows,
        "page_size": quality.CHART_PAGE,
        "limits": [
            (f"{z:+d} SD" if z else "mean", shown.limit(z)) for z in (3, 2, 1, 0, -1, -2, -3)
        ],
    }
    return render(request, "samples/qc_lot.html", context)
