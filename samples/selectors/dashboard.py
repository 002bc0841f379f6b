"""Reads for the turnaround dashboard: turnaround per assay, samples per state, samples at risk,
retest rates and the oldest waiting samples.

Figures are aggregated by PostgreSQL (medians and 90th percentiles with ``percentile_cont``,
days in the lab's time zone) so the dashboard costs a handful of queries however many samples
there are.

Turnaround runs from receipt (``Sample.received_at``) to release (``Sample.released_at``: the
reviewer's first "reviewed and released" signature, should a sample be signed again after an
amendment).
A sample with several assays counts once for each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

from samples.models import TERMINAL_STATES, Sample, SampleState
from samples.selectors.critical import critical_breached, critical_counts
from samples.selectors.specimens import OVERDUE_MARGIN, sample_worklist
from samples.selectors.waits import waiting_by_run

# The lab's turnaround target, receipt to release, for every assay (the assays carry no target
# of their own yet). A sample still unreleased within OVERDUE_MARGIN of it is at risk.
TURNAROUND_TARGET = timedelta(hours=24)
DEFAULT_DAYS = 30
MAX_DAYS = 365
OLDEST_WAITING = 10
AT_RISK_LIMIT = 50

# States in which a sample still waits for its release (verified is released, not yet reported).
WAITING_STATES = [s for s in SampleState if s not in TERMINAL_STATES and s != SampleState.VERIFIED]


@dataclass(frozen=True)
class Turnaround:
    assay: str
    samples: int
    median_hours: float
    p90_hours: float


@dataclass(frozen=True)
class TrendDay:
    day: date
    samples: int
    median_hours: float


# The samples released in the period (a range of the index on released_at); both figures, per
# assay and per assay and day, in one pass. Grouped by the assay's key, named afterwards.
_TURNAROUNDS = """
    WITH released AS (
        SELECT s.id, (s.released_at AT TIME ZONE %(zone)s)::date AS day,
               EXTRACT(EPOCH FROM s.released_at - s.received_at)::float8 / 3600 AS hours
        FROM samples_sample s
        WHERE s.released_at >= %(since)s AND s.received_at IS NOT NULL
    ), figures AS (
        SELECT sa.assay_id, r.day, GROUPING(r.day) = 1 AS whole, COUNT(*) AS n,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY r.hours) AS cuts
        FROM released r
        JOIN samples_sample_assays sa ON sa.sample_id = r.id
        GROUP BY GROUPING SETS ((sa.assay_id), (sa.assay_id, r.day))
    )
    SELECT a.code, f.day, f.whole, f.n, f.cuts[1], f.cuts[2]
    FROM figures f JOIN samples_assay a ON a.id = f.assay_id
    ORDER BY a.code, f.day NULLS FIRST
"""


def turnarounds(since: datetime) -> tuple[list[Turnaround], dict[str, list[TrendDay]]]:
    """For the samples released since ``since``: per assay, the median and 90th percentile
    of turnaround in hours; and per assay, the median of the samples released on each day
    (in the lab's time zone), oldest day first, days without a release left out."""
    params: dict[str, Any] = {"since": since, "zone": settings.TIME_ZONE}
    with connection.cursor() as cursor:
        cursor.execute(_TURNAROUNDS, params)  # no user input in the text: constants only
        rows = cursor.fetchall()
    per_assay: list[Turnaround] = []
    trend: dict[str, list[TrendDay]] = {}
    for code, day, whole, n, median, p90 in rows:
        if whole:
            per_assay.append(Turnaround(code, n, round(median, 1), round(p90, 1)))
        else:
            trend.setdefault(code, []).append(TrendDay(day, n, round(median, 1)))
    return per_assay, trend


@dataclass(frozen=True)
class StateCount:
    state: str
    label: str
    samples: int


def samples_per_state() -> list[StateCount]:
    """How many samples are in each state now, every state listed (in lifecycle order)."""
    counts = dict(Sample.objects.values_list("state").annotate(n=Count("id")).order_by())
    return [StateCount(s.value, s.label, counts.get(s.value, 0)) for s in SampleState]


@dataclass(frozen=True)
class AtRisk:
    sample: Sample
    state_label: str
    reasons: list[str]
    due: datetime  # the earlier of the two deadlines that put it at risk


def samples_at_risk(now: datetime | None = None) -> list[AtRisk]:
    """Samples still waiting whose stability window ends within OVERDUE_MARGIN (the worklist's
    "overdue", or has ended), or whose turnaround target falls within OVERDUE_MARGIN (or has
    passed); soonest due first."""
    now = now or timezone.now()
    horizon = now + OVERDUE_MARGIN
    samples: QuerySet[Any] = (  # annotated with ``deadline``, ``target`` and ``due``
        sample_worklist()
        .prefetch_related(None)  # the page names no assay
        .filter(state__in=WAITING_STATES)
        .annotate(
            target=ExpressionWrapper(
                F("received_at") + Value(TURNAROUND_TARGET), output_field=DateTimeField()
            )
        )
        .filter(Q(deadline__lt=horizon) | Q(target__lt=horizon))
        .annotate(due=Least("deadline", "target"))  # PostgreSQL's LEAST skips a missing target
        .order_by("due", "barcode")[:AT_RISK_LIMIT]
    )
    rows = []
    for sample in samples:
        reasons, due = [], []
        if sample.deadline < horizon:
            reasons.append(f"stability window ends {_when(sample.deadline, now)}")
            due.append(sample.deadline)
        if sample.target is not None and sample.target < horizon:
            reasons.append(f"turnaround target {_when(sample.target, now)}")
            due.append(sample.target)
        rows.append(AtRisk(sample, sample.get_state_display(), reasons, min(due)))
    return rows


def _when(moment: datetime, now: datetime) -> str:
    hours = abs((moment - now).total_seconds()) / 3600
    return f"in {hours:.1f} h" if moment >= now else f"passed {hours:.1f} h ago"


@dataclass(frozen=True)
class RetestRate:
    name: str
    results: int
    retested: int

    @property
    def percent(self) -> float:
        return round(100 * self.retested / self.results, 1) if self.results else 0.0


# Results recorded in the period (a range of the index on recorded_at), counted per assay and
# per instrument in one pass; a result without an instrument was entered by hand.
_RETEST_RATES = """
    WITH counted AS (
        SELECT r.assay_id, r.instrument_id, GROUPING(r.instrument_id) = 1 AS per_assay,
               COUNT(*) AS n, COUNT(t.id) AS retested
        FROM samples_result r
        LEFT JOIN samples_retest t ON t.original_id = r.id
        WHERE r.recorded_at >= %(since)s
        GROUP BY GROUPING SETS ((r.assay_id), (r.instrument_id))
    )
    SELECT c.per_assay, CASE WHEN c.per_assay THEN a.code ELSE COALESCE(i.name, %(by_hand)s) END
               AS name,
           c.n, c.retested
    FROM counted c
    LEFT JOIN samples_assay a ON c.per_assay AND a.id = c.assay_id
    LEFT JOIN samples_instrument i ON NOT c.per_assay AND i.id = c.instrument_id
    ORDER BY name
"""
BY_HAND = "entered by hand"


def retest_rates(since: datetime) -> tuple[list[RetestRate], list[RetestRate]]:
    """Of the results recorded since ``since``, the share sent for a retest (by the lifecycle
    or a reviewer), per assay and per instrument (results entered by hand: "entered by hand")."""
    with connection.cursor() as cursor:
        cursor.execute(_RETEST_RATES, {"since": since, "by_hand": BY_HAND})  # constants only
        rows = cursor.fetchall()
    per_assay: list[RetestRate] = []
    per_instrument: list[RetestRate] = []
    for whole, name, n, retested in rows:
        (per_assay if whole else per_instrument).append(RetestRate(name, n, retested))
    return per_assay, per_instrument


@dataclass(frozen=True)
class Waiting:
    sample: Sample
    state_label: str
    since: datetime  # receipt, or registration for a sample not yet received
    hours: float
    waiting_for: str


def oldest_waiting(limit: int = OLDEST_WAITING, now: datetime | None = None) -> list[Waiting]:
    """The samples waiting longest for their release (from receipt, or from registration if
    not yet received), oldest first, each with what its lifecycle waits for."""
    now = now or timezone.now()
    samples = list(
        Sample.objects.filter(state__in=WAITING_STATES)
        .annotate(since=Coalesce("received_at", "registered_at"))
        .order_by("since", "barcode")[:limit]
    )
    waits = waiting_by_run(str(s.run_id) for s in samples if s.run_id is not None)
    return [
        Waiting(
            sample,
            sample.get_state_display(),
            sample.since,
            round((now - sample.since).total_seconds() / 3600, 1),
            waits.get(str(sample.run_id), ""),
        )
        for sample in samples
    ]


# --- critical values ------------------------------------------------------------------------


def critical_values(since: datetime) -> dict[str, Any]:
    """Critical values open now, and of those opened since ``since``: the share notified
    within the SLA, and the ones that breached it (closed late, or open past it)."""
    return {"counts": critical_counts(since=since), "breached": critical_breached(since=since)}
