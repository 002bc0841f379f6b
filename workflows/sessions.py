"""Workflows kept suspended in this process between advances, so the next advance feeds them
the new events instead of replaying the whole history (like a sticky worker).

Purely an optimisation: a session is only used when it has seen exactly the committed history
up to a known ``seq`` and runs the code now registered; anything else replays from the table.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from django.db import transaction

from workflows.replay import Session

CAPACITY = 1000  # suspended coroutines kept per process; the least recently used go first


class Kept(NamedTuple):
    session: Session
    seen: int  # the run's newest event when the session was kept; it has taken in all of them
    workflow: str
    version: int


_lock = threading.Lock()
_kept: OrderedDict[str, Kept] = OrderedDict()


def take(run_id: str) -> Kept | None:
    """Remove and return the run's kept session, if this process has one."""
    with _lock:
        return _kept.pop(run_id, None)


def keep_after_commit(run_id: str, kept: Kept) -> None:
    """Keep a live session once the transaction that recorded its decisions commits."""
    if kept.session.alive:
        transaction.on_commit(lambda: _keep(run_id, kept))


def _keep(run_id: str, kept: Kept) -> None:
    with _lock:
        _kept[run_id] = kept
        _kept.move_to_end(run_id)
        while len(_kept) > CAPACITY:
            _, evicted = _kept.popitem(last=False)
            evicted.session.close()


def clear() -> None:
    with _lock:
        for kept in _kept.values():
            kept.session.close()
        _kept.clear()
