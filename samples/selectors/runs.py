"""Reads for the runs console: the business key of each run (the sample or batch it belongs
to) and the search by business key; the runs themselves come from ``workflows.ops``."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from django.db.models import Q

from samples.models import RunLink
from samples.selectors.waits import waits_words
from samples.values.bounds import whole_number
from samples.values.codes import code_clean
from workflows.ops import RunRow


@dataclass(frozen=True)
class ConsoleRun:
    run: RunRow
    kind: str  # "sample", "batch" or "" (a run of neither)
    key: str  # the sample's barcode or the batch's id
    waiting: str = ""  # what it waits for, in the lab's words (``run.waiting_for``: the engine's)


def runs_named(search: str) -> list[str]:
    """The runs a search names: every run of a sample (by barcode) or of a batch (by id),
    those a restart left behind included, or a run id."""
    text = search.strip()
    named = Q(barcode=code_clean(text))
    batch_id = whole_number(text)
    if batch_id is not None and len(text) < 19:  # a batch id fits in a bigint
        named |= Q(batch_id=batch_id)
    found = [
        str(run_id) for run_id in RunLink.objects.filter(named).values_list("run_id", flat=True)
    ]
    with contextlib.suppress(ValueError):
        found.append(str(uuid.UUID(text)))
    return found


def with_keys(rows: list[RunRow]) -> list[ConsoleRun]:
    """Each run with the sample or batch it belongs to and what it waits for in the lab's
    words (a few queries for the page, whatever its size)."""
    owners = _owners([row.id for row in rows])
    words = waits_words(rows)
    return [ConsoleRun(row, *owners.get(row.id, ("", "")), words[row.id]) for row in rows]


def owner_of(run_id: str) -> tuple[str, str]:
    """("sample", barcode), ("batch", id), or ("", "") for a run of neither."""
    return _owners([run_id]).get(run_id, ("", ""))


def _owners(ids: list[str]) -> dict[str, tuple[str, str]]:
    links = RunLink.objects.filter(run_id__in=ids).values_list("run_id", "barcode", "batch_id")
    return {
        str(run_id): ("sample", barcode) if barcode is not None else ("batch", str(batch_id))
        for run_id, barcode, batch_id in links
    }
