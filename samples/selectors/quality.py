"""Reads for quality control: the QC page's lots with their latest results, and one lot's
results a page at a time for its Levey-Jennings chart. A fixed number of queries whatever the
number of lots and results."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber

from samples.models import ControlLot, ControlResult, QcVerdict

LATEST = 5  # results shown per lot on the QC page
CHART_PAGE = 100  # results a Levey-Jennings chart shows at a time


@dataclass(frozen=True)
class LotRow:
    lot: ControlLot
    results: int
    violations: int  # results that broke a rule (warning or rejected)
    latest: list[ControlResult]  # newest first


def qc_lots() -> list[LotRow]:
    """Every control lot, by assay and instrument, with its count of results and of
    violations, and its latest ``LATEST`` results: two queries."""
    lots = (
        ControlLot.objects.select_related("material", "assay", "instrument")
        .annotate(
            result_count=Count("results"),
            violation_count=Count(
                "results",
                filter=Q(results__verdict__in=[QcVerdict.WARNING, QcVerdict.REJECTED]),
            ),
        )
        .order_by("assay__code", "instrument__name", "material__level", "code")
    )
    latest = (
        ControlResult.objects.annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("lot_id")],
                order_by=[F("measured_at").desc(), F("id").desc()],
            )
        )
        .filter(rank__lte=LATEST)
        .order_by("lot_id", "rank")
    )
    by_lot: dict[int, list[ControlResult]] = {}
    for result in latest:
        by_lot.setdefault(result.lot_id, []).append(result)
    return [
        LotRow(lot, lot.result_count, lot.violation_count, by_lot.get(lot.pk, [])) for lot in lots
    ]


@dataclass(frozen=True)
class ChartPage:
    lot: ControlLot
    results: list[ControlResult]  # oldest first
    total: int
    page: int  # 1: the newest CHART_PAGE results, 2: the ones before them, ...
    pages: int
    first: int  # the number of the first result shown, counting from the lot's first (1)

    @property
    def last(self) -> int:
        return self.first + len(self.results) - 1

    def limit(self, sds: int) -> Decimal:
        return self.lot.target_mean + sds * self.lot.target_sd


def qc_lot_page(lot: ControlLot, page: int = 1) -> ChartPage:
    """One page of the lot's results in the order they were measured: page 1 the newest
    ``CHART_PAGE`` (index ``control_result_history``), two queries."""
    total = ControlResult.objects.filter(lot=lot).count()
    pages = max(1, -(-total // CHART_PAGE))
    page = min(max(page, 1), pages)
    start = (page - 1) * CHART_PAGE
    newest_first = list(
        ControlResult.objects.filter(lot=lot)
        .select_related("entered_by", "instrument", "control")
        .order_by("-measured_at", "-id")[start : start + CHART_PAGE]
    )
    results = newest_first[::-1]
    return ChartPage(lot, results, total, page, pages, total - start - len(results) + 1)
