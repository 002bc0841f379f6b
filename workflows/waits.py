"""What a run waits for, as data: the awaits it is suspended at (``Run.waits``, written with
``waiting_for`` on every advance), for applications to say in their own words, and whether a
run has settled after an event (taken it in and reached its next wait or its end)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.models import Run, RunStatus


@dataclass(frozen=True)
class Wait:
    """One await a run is suspended at: a ``step`` running (``name``, its ``args``), a
    ``signal`` (``name``, and ``until`` if it has a deadline) or a ``timer`` (``until``)."""

    kind: str
    name: str = ""
    until: datetime | None = None
    args: tuple[Any, ...] = ()


def waits_of(stored: list[dict[str, Any]] | None) -> tuple[Wait, ...]:
    """The ``Wait`` of each entry of a run's ``waits`` column."""
    return tuple(
        Wait(
            kind=entry.get("kind", ""),
            name=entry.get("name", ""),
            until=datetime.fromisoformat(entry["until"]) if entry.get("until") else None,
            args=tuple(entry.get("args") or ()),
        )
        for entry in stored or ()
    )


def wait_settled(run_id: str, *, seconds: float, every: float = 0.02) -> bool:
    """Wait (polling the run's row by its key every ``every`` seconds, at most ``seconds``)
    until the run has taken in every event it was given and no step of it runs: it waits for a
    signal or a timer, has finished, or is blocked. True if it has, False at the deadline (or
    if there is no such run). Called after an event (a signal) was committed: an answer that
    shows what the event led to."""
    deadline = time.monotonic() + seconds
    row = Run.objects.filter(pk=run_id).values_list("status", "needs_advance")
    while True:
        found = row.first()
        if found is None:
            return False
        status, needs_advance = found
        if not needs_advance and status != RunStatus.RUNNING:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(every, left))
