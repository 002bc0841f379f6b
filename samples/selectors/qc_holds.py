"""Which patient results quality control holds, and why, in words: a result of a batch whose
run waits for its control results (QC pending) or was rejected by QC and waits for a
supervisor's decision cannot be verified or released. Reads only.

The reason names the run and what broke: "GLU run of batch 12 is held by QC (2-2s on
QC-GLU-1): a supervisor decides". The review page reads the reasons of its whole queue at once
(``held_batches``); ``samples.services.qc_decisions.qc_hold_check`` refuses a signature with the
same words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Prefetch

from samples.models import (
    Batch,
    BatchControl,
    ControlResult,
    QcDecision,
    QcStatus,
    QcVerdict,
    Result,
)
from samples.values.westgard import WARNING_RULES

HOLDING = (QcStatus.PENDING, QcStatus.REJECTED)


def rejections(batch_id: int) -> list[ControlResult]:
    """The rejected control results of a batch's run, in the order they were recorded."""
    return list(
        ControlResult.objects.filter(control__batch_id=batch_id, verdict=QcVerdict.REJECTED)
        .select_related("lot")
        .order_by("recorded_at", "pk")
    )


def rejection_words(found: Iterable[ControlResult]) -> str:
    """ "2-2s on QC-GLU-1; 1-3s on QC-GLU-2": the rules each broke; of a rejected result, the
    rules that rejected it (a 1-2s warning beside them is left out); a rejection without rules:
    "rejected on ..."."""
    return "; ".join(f"{', '.join(_said_rules(r)) or 'rejected'} on {r.lot.code}" for r in found)


def _said_rules(result: ControlResult) -> list[str]:
    if result.verdict != QcVerdict.REJECTED:
        return list(result.rules)
    return [rule for rule in result.rules if rule not in WARNING_RULES]


def hold_reason(batch: Batch, found: Iterable[ControlResult] = ()) -> str:
    """Why the results of ``batch`` are held ("" when they are not); ``found``: its rejected
    control results, when a rejected batch's are already read."""
    if batch.qc_status == QcStatus.PENDING:
        return (
            f"{batch.assay.code} run of batch {batch.pk} waits for its control results: "
            "its results are held until QC accepts the run"
        )
    if batch.qc_status == QcStatus.REJECTED:
        broken = rejection_words(found) or rejection_words(rejections(batch.pk))
        return (
            f"{batch.assay.code} run of batch {batch.pk} is held by QC ({broken}): "
            "a supervisor decides"
        )
    return ""


def held_batches(batch_ids: Iterable[int]) -> dict[int, str]:
    """For the batches among ``batch_ids`` whose results are held, the reason; two queries
    whatever their number."""
    batches = list(
        Batch.objects.filter(pk__in=set(batch_ids), qc_status__in=HOLDING).select_related("assay")
    )
    rejected: dict[int, list[ControlResult]] = {}
    rows = (
        ControlResult.objects.filter(
            control__batch__in=[b.pk for b in batches if b.qc_status == QcStatus.REJECTED],
            verdict=QcVerdict.REJECTED,
        )
        .select_related("lot", "control")
        .order_by("recorded_at", "pk")
    )
    for row in rows:
        rejected.setdefault(row.control.batch_id, []).append(row)
    return {b.pk: hold_reason(b, rejected.get(b.pk, [])) for b in batches}


def results_held(results: Iterable[Result]) -> str:
    """Why any of ``results`` is held ("" when none is): the reasons of their batches."""
    held = held_batches(r.batch_id for r in results if r.batch_id is not None)
    return "; ".join(held[pk] for pk in sorted(held))


@dataclass(frozen=True)
class BatchQc:
    """A batch's run with its quality control, for its QC page."""

    batch: Batch
    controls: Sequence[BatchControl]  # each with ``found``: its control results, in order
    held: str  # why its results are held ("" when they are not)
    decisions: list[QcDecision]

    @property
    def decidable(self) -> bool:
        return self.batch.qc_status == QcStatus.REJECTED


def batch_qc(batch_id: int) -> BatchQc | None:
    """The batch's run, its control positions and results, why its results are held, and the
    supervisors' decisions; None when there is no such batch."""
    batch = (
        Batch.objects.select_related("assay", "instrument", "started_by")
        .filter(pk=batch_id)
        .first()
    )
    if batch is None:
        return None
    controls = list(
        batch.controls.select_related("lot__material")
        .prefetch_related(
            Prefetch(
                "results",
                queryset=ControlResult.objects.order_by("recorded_at", "pk"),
                to_attr="found",
            )
        )
        .order_by("position")
    )
    decisions = list(batch.qc_decisions.select_related("decided_by").order_by("decided_at"))
    return BatchQc(batch, controls, hold_reason(batch), decisions)
