"""Workflows kept suspended in this process between advances, so the next advance feeds them
the new events instead of replaying the whole history (like a sticky worker).

Purely an optimisation: a session is only used when it has seen exactly the committed history
up to a known ``seq`` and runs the code now registered; anything else replays from the table.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.db import transaction

from workflows.replay import Session

CAPACITY = 1000  # suspended coroutines kept per process; the least recently used go first

_lock = threading.Lock()
_kept: OrderedDict[str, tuple[Session, int]] = OrderedDict()


def take(run_id: str) -> tuple[Session, int] | None:
    """Remove and return the run's session and the ``seq`` it has seen, if this process has it."""
    with _lock:
        return _kept.pop(run_id, None)


def keep_after_commit(run_id: str, session: Session, seq: int) -> None:
    """Keep a live session once the transaction that recorded its decisions commits."""
    if not session.alive:
        return
    transaction.on_commit(lambda: _keep(run_id, session, seq))


def _keep(run_id: str, session: Session, seq: int) -> None:
    with _lock:
        _kept[run_id] = (session, seq)
        _kept.move_to_end(run_id)
        while len(_kept) > CAPACITY:
            _, (evicted, _) = _kept.popitem(last=False)
            evicted.close()


def clear() -> None:
    with _lock:
        for session, _ in _kept.values():
            session.close()
        _kept.clear()
