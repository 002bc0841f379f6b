"""Reads for the batch board: batches not yet completed, with their plate maps (samples' wells
and, after them, the run's control positions with their results' verdicts)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from samples.models import (
    Batch,
    BatchControl,
    BatchMember,
    BatchStatus,
    ControlResult,
    QcVerdict,
    Result,
)
from samples.values.plates import well_name


@dataclass(frozen=True)
class PlateCell:
    position: int
    well: str  # "A1" to "H12" (samples/values/plates.py)
    barcode: str
    resulted: bool
    control: str = ""  # a control position: its lot's code
    verdict: str = ""  # its result's verdict (QcVerdict), empty while it waits for it
    rules: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        """ "empty", "waiting" (a sample without its result yet), "resulted" or "control"."""
        if self.control:
            return "control"
        return "resulted" if self.resulted else "waiting" if self.barcode else "empty"

    @property
    def control_words(self) -> str:
        """ "control QC-GLU-1: in control", "...: warning 1-2s", "...: rejected 1-2s, 2-2s"."""
        if not self.verdict:
            return f"control {self.control}: waiting for its result"
        said = QcVerdict(self.verdict).label.lower()
        return f"control {self.control}: {said}" + (
            f" {', '.join(self.rules)}" if self.rules else ""
        )


@dataclass(frozen=True)
class BatchView:
    batch: Batch
    cells: list[PlateCell]
    filled: int
    waiting: list[str]  # barcodes still without a result in this batch
    controls_waiting: list[str]  # control lots' codes still without a result in this run

    @property
    def closes_at(self) -> datetime:
        """When an open batch closes if it does not fill first."""
        return self.batch.opened_at + self.batch.assay.batch_close_after


def batch_board() -> list[BatchView]:
    """Batches not yet completed, oldest first, with their plate maps (wells A1 to H12): five
    queries however many batches there are."""
    batches = list(
        Batch.objects.exclude(status=BatchStatus.COMPLETED)
        .select_related("assay", "instrument", "started_by")
        .order_by("assay__code", "opened_at")
    )
    chosen = [batch.pk for batch in batches]
    members: dict[int, dict[int, BatchMember]] = defaultdict(dict)
    for member in BatchMember.objects.filter(batch__in=chosen).select_related("sample"):
        members[member.batch_id][member.position] = member
    resulted: dict[int, set[int]] = defaultdict(set)
    for batch_id, sample_id in Result.objects.filter(batch__in=chosen).values_list(
        "batch_id", "sample_id"
    ):
        resulted[batch_id].add(sample_id)
    controls: dict[int, dict[int, BatchControl]] = defaultdict(dict)
    for control in BatchControl.objects.filter(batch__in=chosen).select_related("lot"):
        controls[control.batch_id][control.position] = control
    verdicts = {
        control_id: (verdict, tuple(rules))
        for control_id, verdict, rules in ControlResult.objects.filter(
            control__batch__in=chosen
        ).values_list("control_id", "verdict", "rules")
    }
    return [
        _batch_view(batch, members[batch.pk], resulted[batch.pk], controls[batch.pk], verdicts)
        for batch in batches
    ]


def _batch_view(
    batch: Batch,
    members: dict[int, BatchMember],
    resulted: set[int],
    controls: dict[int, BatchControl],
    verdicts: dict[int, tuple[str, tuple[str, ...]]],
) -> BatchView:
    cells = []
    for position in range(1, max([batch.capacity, *controls]) + 1):
        member, control = members.get(position), controls.get(position)
        if control is not None:
            verdict, rules = verdicts.get(control.pk, ("", ()))
            cells.append(
                PlateCell(
                    position, well_name(position), "", False, control.lot.code, verdict, rules
                )
            )
            continue
        cells.append(
            PlateCell(
                position,
                well_name(position),
                member.sample.barcode if member else "",
                bool(member and member.sample_id in resulted),
            )
        )
    waiting = [m.sample.barcode for m in members.values() if m.sample_id not in resulted]
    controls_waiting = [c.lot.code for c in controls.values() if c.pk not in verdicts]
    return BatchView(batch, cells, len(members), sorted(waiting), controls_waiting)
