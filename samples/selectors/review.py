"""Reads for the review page: resulted samples waiting for verification (and released ones
corrected since, back to review), each result beside its
reference range and the subject's previous result of the same assay, critical results marked,
and results whose measurement time cannot be right (``Result.time_flag``) marked too. A sample
with a result of a run that quality control holds (``samples.selectors.qc_holds``) is shown
held, with the reason, and cannot be signed.

The queue is read in a fixed number of queries whatever its length (samples with their retest
counts, their current results, the subjects' earlier results). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from samples.models import Assay, CriticalNotification, Result, Sample, SampleState, Signature
from samples.selectors.qc_holds import held_batches
from samples.values.answers import answers_of

FLAG_WORDS = {
    "LL": "critical low",
    "HH": "critical high",
    "L": "low",
    "H": "high",
    "A": "abnormal",
}


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def reference_range(assay: Assay) -> str:
    """The assay's reference range in words: "3.9-5.6 mmol/L" (with an en dash),
    "≥ 3.9 mmol/L", "≤ 5.6 mmol/L"; "" when the assay has none. A qualitative assay's: its
    normal answers ("normal: Negative")."""
    if assay.is_qualitative:
        normal = [a.text for a in answers_of(assay) if not a.abnormal]
        return f"normal: {' or '.join(normal)}" if normal else ""
    low, high = assay.reference_low, assay.reference_high
    if low is not None and high is not None:
        text = f"{_number(low)}\N{EN DASH}{_number(high)}"
    elif low is not None:
        text = f"≥ {_number(low)}"
    elif high is not None:
        text = f"≤ {_number(high)}"
    else:
        return ""
    return f"{text} {assay.units}".strip()


def critical_reason(result: Result) -> str:
    """Why a result is critical ("critical low", "critical high", "flagged critical") or ""."""
    assay, value = result.assay, result.value
    if result.interpretation == "LL" or (
        value is not None and assay.critical_low is not None and value < assay.critical_low
    ):
        return "critical low"
    if result.interpretation == "HH" or (
        value is not None and assay.critical_high is not None and value > assay.critical_high
    ):
        return "critical high"
    if result.critical_flagged_at is not None:
        return "flagged critical"
    return ""


@dataclass(frozen=True)
class ReviewRow:
    result: Result
    reference: str
    previous: Result | None  # the subject's latest result of this assay on an earlier sample
    critical: str

    @property
    def flag(self) -> str:
        return FLAG_WORDS.get(self.result.interpretation, self.result.interpretation)

    @property
    def time_flag(self) -> str:
        """Why the result's measurement time cannot be right ("" when it can)."""
        return self.result.time_flag


@dataclass(frozen=True)
class ReviewItem:
    sample: Sample
    rows: list[ReviewRow]
    retests: int
    unnotified: bool = False  # a critical value not yet called: release waits for the call
    held: str = ""  # why quality control holds its results ("" when it does not)
    held_batch: int | None = None  # the (first) batch whose run holds them

    @property
    def results(self) -> list[Result]:
        return [row.result for row in self.rows]

    @property
    def critical(self) -> bool:
        return any(row.critical for row in self.rows)

    @property
    def corrected(self) -> bool:
        """Corrected after release, back for review (a retest is no longer open to it)."""
        return self.sample.state == SampleState.AMENDED

    @property
    def time_flagged(self) -> bool:
        return any(row.time_flag for row in self.rows)


def _current(results: QuerySet[Result]) -> QuerySet[Result]:
    """Results not superseded by a retest and not sent for one."""
    return results.filter(superseded_by__isnull=True, retest__isnull=True)


def review_queue() -> list[ReviewItem]:
    """Samples waiting for verification, oldest first, with their current results: resulted
    ones, and released ones whose results were corrected since (back to review).

    A sample signed since it came to review is left out: its workflow is releasing it."""
    signed = Signature.objects.filter(
        sample=OuterRef("pk"), signed_at__gte=OuterRef("state_changed_at")
    )
    samples = list(
        Sample.objects.filter(state__in=(SampleState.RESULTED, SampleState.AMENDED))
        .exclude(Exists(signed))
        .annotate(
            retest_count=Count("results", filter=Q(results__retest__isnull=False)),
            unnotified=Exists(
                CriticalNotification.objects.filter(sample=OuterRef("pk"), closed_at=None)
            ),
        )
        .prefetch_related(
            Prefetch(
                "results",
                queryset=_current(Result.objects.all())
                .select_related("assay", "instrument", "entered_by")
                .order_by("assay__code"),
                to_attr="current_results",
            )
        )
        .order_by("state_changed_at", "pk")
    )
    earlier = _earlier_results(samples)
    held = held_batches(
        r.batch_id
        for s in samples
        for r in s.current_results  # type: ignore[attr-defined]
        if r.batch_id is not None
    )
    items = []
    for sample in samples:
        rows = [
            ReviewRow(
                result=result,
                reference=reference_range(result.assay),
                previous=_previous(earlier, sample, result),
                critical=critical_reason(result),
            )
            for result in sample.current_results  # type: ignore[attr-defined]
        ]
        holding = sorted({r.result.batch_id for r in rows if r.result.batch_id in held})
        items.append(
            ReviewItem(
                sample,
                rows,
                sample.retest_count,  # type: ignore[attr-defined]
                unnotified=sample.unnotified,  # type: ignore[attr-defined]
                held="; ".join(held[pk] for pk in holding),
                held_batch=holding[0] if holding else None,
            )
        )
    return items


def _earlier_results(samples: Sequence[Sample]) -> dict[tuple[str, int], list[Result]]:
    """Current results of every sample of the queue's subjects for the queue's assays, by
    (subject, assay), newest sample first: one query."""
    subjects = {s.subject_ref for s in samples}
    assays = {r.assay_id for s in samples for r in s.current_results}  # type: ignore[attr-defined]
    found: dict[tuple[str, int], list[Result]] = {}
    if not subjects or not assays:
        return found
    results = (
        _current(Result.objects.all())
        .filter(sample__subject_ref__in=subjects, assay_id__in=assays)
        .select_related("sample")
        .order_by("-sample__collected_at", "-measured_at", "-pk")
    )
    for result in results:
        found.setdefault((result.sample.subject_ref, result.assay_id), []).append(result)
    return found


def _previous(
    earlier: dict[tuple[str, int], list[Result]], sample: Sample, result: Result
) -> Result | None:
    for candidate in earlier.get((sample.subject_ref, result.assay_id), []):
        if candidate.sample_id != sample.pk and candidate.sample.collected_at < sample.collected_at:
            return candidate
    return None
