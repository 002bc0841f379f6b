"""Reads for the batch board: batches not yet completed, with their plate maps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from samples.models import Batch, BatchStatus
from samples.values.plates import well_name


@dataclass(frozen=True)
class PlateCell:
    position: int
    well: str  # "A1" to "H12" (samples/values/plates.py)
    barcode: str
    resulted: bool

    @property
    def status(self) -> str:
        """ "empty", "waiting" (a sample without its result yet) or "resulted"."""
        return "resulted" if self.resulted else "waiting" if self.barcode else "empty"


@dataclass(frozen=True)
class BatchView:
    batch: Batch
    cells: list[PlateCell]
    filled: int
    waiting: list[str]  # barcodes still without a result in this batch

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
        cells = []
        for position in range(1, batch.capacity + 1):
            member = members.get(position)
            cells.append(
                PlateCell(
                    position,
                    well_name(position),
                    member.sample.barcode if member else "",
                    bool(member and member.sample_id in resulted),
                )
            )
        waiting = [m.sample.barcode for m in members.values() if m.sample_id not in resulted]
        views.append(BatchView(batch, cells, len(members), sorted(waiting)))
    return views
