"""The turnaround dashboard: how fast each assay is released, where the samples are now, which
are at risk, how often results are retested, and who has waited longest."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from samples.documents import charts
from samples.roles import Role, role_required
from samples.selectors import dashboard as figures
from samples.values.bounds import whole_number
from samples.views.requests import HtmxHttpRequest


def _period(raw: str | None) -> tuple[int, str]:
    """The period in days asked for, or the default with a message saying why."""
    if raw is None or raw == "":
        return figures.DEFAULT_DAYS, ""
    days = whole_number(raw)
    if days is None or not 1 <= days <= figures.MAX_DAYS:
        return figures.DEFAULT_DAYS, (
            f"The period must be a whole number of days from 1 to {figures.MAX_DAYS}, "
            f"not {raw!r}: showing the last {figures.DEFAULT_DAYS} days."
        )
    return days, ""


VIEWERS = (Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE, Role.ADMIN)


@role_required(*VIEWERS)
def dashboard(request: HttpRequest) -> HttpResponse:
    """The figures of now (samples per state, at risk, oldest waiting); the figures of the
    period (turnaround, retest rates) are fetched beside them by ``dashboard_period``."""
    days, problem = _period(request.GET.get("days"))
    now = timezone.now()
    states = figures.samples_per_state()
    context = {
        "days": days,
        "problems": [problem] if problem else [],
        "target_hours": round(_target_hours(), 1),
        "margin_hours": round(figures.OVERDUE_MARGIN.total_seconds() / 3600, 1),
        "states": states,
        "states_chart": charts.bar_chart(
            "Samples per state now: " + "; ".join(f"{s.label} {s.samples}" for s in states),
            [s.label for s in states],
            [("Samples", [s.samples for s in states])],
        ),
        "at_risk": figures.samples_at_risk(now),
        "critical_open": figures.critical_values(now)["counts"],
        "oldest": figures.oldest_waiting(now=now),
    }
    return render(request, "samples/dashboard.html", context, status=400 if problem else 200)


@role_required(*VIEWERS)
def dashboard_period(request: HtmxHttpRequest) -> HttpResponse:
    """Turnaround per assay and per day, and retest rates, over the period: the dashboard's
    section (for htmx), or a page of its own (a link without JavaScript)."""
    days, problem = _period(request.GET.get("days"))
    since = timezone.now() - timedelta(days=days)
    turnaround, trend = figures.turnarounds(since)
    per_assay, per_instrument = figures.retest_rates(since)
    target_hours = _target_hours()
    context = {
        "days": days,
        "problems": [problem] if problem else [],
        "target_hours": round(target_hours, 1),
        "turnaround": turnaround,
        "turnaround_chart": _turnaround_chart(turnaround, days),
        "trends": [
            {
                "assay": code,
                "days": points,
                "chart": charts.column_chart(
                    f"{code}: median turnaround per day, in hours: "
                    + "; ".join(f"{p.day:%Y-%m-%d} {p.median_hours:g}" for p in points),
                    [(f"{p.day:%Y-%m-%d}", p.median_hours) for p in points],
                    unit=" h",
                    target=target_hours,
                ),
            }
            for code, points in trend.items()
        ],
        "critical": figures.critical_values(since),
        "retest_groups": [
            {"per": per, "rows": rows, "chart": _retest_chart(rows, per)}
            for per, rows in (("assay", per_assay), ("instrument", per_instrument))
        ],
    }
    template = "samples/dashboard_period.html" + ("#period" if request.htmx else "")
    return render(request, template, context, status=400 if problem else 200)


def _target_hours() -> float:
    return figures.TURNAROUND_TARGET.total_seconds() / 3600


def _turnaround_chart(rows: list[figures.Turnaround], days: int) -> str:
    if not rows:
        return ""
    words = "; ".join(
        f"{r.assay} median {r.median_hours:g} h, 90th percentile {r.p90_hours:g} h" for r in rows
    )
    return charts.bar_chart(
        f"Turnaround from receipt to release over the last {days} days: {words}",
        [r.assay for r in rows],
        [
            ("Median", [r.median_hours for r in rows]),
            ("90th percentile", [r.p90_hours for r in rows]),
        ],
        unit=" h",
    )


def _retest_chart(rows: list[figures.RetestRate], per: str) -> str:
    if not rows:
        return ""
    return charts.bar_chart(
        f"Retest rate per {per}, percent of results: "
        + "; ".join(f"{r.name} {r.percent:g} %" for r in rows),
        [r.name for r in rows],
        [("Retested", [r.percent for r in rows])],
        unit=" %",
    )
