"""Reads for the batch board: batches not yet completed, with their plate maps (samples' wells
and, after them, the run's control positions with their results' verdicts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from samples.models import Batch, BatchStatus, ControlResult, QcVerdict
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
    """Batches not yet completed, oldest first, with their plate maps (wells A1 to H12)."""
    views = []
    batches = (
        Batch.objects.exclude(status=BatchStatus.COMPLETED)
        .select_related("assay", "instrument", "started_by")
        .order_by("assay__code", "opened_at")
    )
    for batch in batches:
        members = {m.position: m for m in batch.members.select_related("sample")}
        resulted = set(batch.results.values_list("sample_id", flat=True))
        controls = {c.position: c for c in batch.controls.select_related("lot")}
        verdicts = {
            control_id: (verdict, tuple(rules))
            for control_id, verdict, rules in _control_results(batch)
        }
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
        views.append(BatchView(batch, cells, len(members), sorted(waiting), controls_waiting))
    return views


def _control_results(batch: Batch) -> list[tuple[int, str, list[str]]]:
    return list(
        ControlResult.objects.filter(control__batch=batch).values_list(
            "control_id", "verdict", "rules"
        )
    )
