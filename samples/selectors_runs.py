"""Reads for the runs console: the business key of each run (the sample or batch it belongs
to) and the search by business key; the runs themselves come from ``workflows.api``."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from samples.models import Batch, Sample
from workflows.api import RunRow


@dataclass(frozen=True)
class ConsoleRun:
    run: RunRow
    kind: str  # "sample", "batch" or "" (a run of neither)
    key: str  # the sample's barcode or the batch's id


def runs_named(search: str) -> list[str]:
    """The runs a search names: a sample barcode, a batch id, or a run id."""
    text = search.strip()
    found = [
        str(run_id)
        for run_id in Sample.objects.filter(barcode=text.upper()).values_list("run_id", flat=True)
    ]
    if text.isdigit():
        found += [
            str(run_id)
            for run_id in Batch.objects.filter(pk=int(text)).values_list("run_id", flat=True)
        ]
    with contextlib.suppress(ValueError):
        found.append(str(uuid.UUID(text)))
    return [run_id for run_id in found if run_id != "None"]


def with_keys(rows: list[RunRow]) -> list[ConsoleRun]:
    """Each run with the sample or batch it belongs to (two queries for the page)."""
    owners = _owners([row.id for row in rows])
    return [ConsoleRun(row, *owners.get(row.id, ("", ""))) for row in rows]


def owner_of(run_id: str) -> tuple[str, str]:
    """("sample", barcode), ("batch", id), or ("", "") for a run of neither."""
    return _owners([run_id]).get(run_id, ("", ""))


def _owners(ids: list[str]) -> dict[str, tuple[str, str]]:
    owners = {
        str(run_id): ("batch", str(pk))
        for run_id, pk in Batch.objects.filter(run_id__in=ids).values_list("run_id", "pk")
    }
    samples = Sample.objects.filter(run_id__in=ids).values_list("run_id", "barcode")
    owners.update({str(run_id): ("sample", barcode) for run_id, barcode in samples})
    return owners
