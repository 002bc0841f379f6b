"""When the sweep last ran: written by every sweep (``executor.sweep`` notes it in the
``Heartbeat`` table, row ``"sweep"``), read by the deep health check and the metrics.

A row in PostgreSQL, so every process reads the same answer and a restart of Redis loses
nothing. The time is the engine's clock, which in production is the wall clock: the question is
how long ago, for an operator, the sweep really ran.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.utils import timezone

from workflows import store
from workflows.models import SWEEP_HEARTBEAT, Heartbeat


def record_sweep(*, at: float | None = None) -> None:
    """Note that a sweep finished ``at`` (a Unix time; now when omitted)."""
    moment = timezone.now() if at is None else datetime.fromtimestamp(at, UTC)
    store.record_heartbeat(SWEEP_HEARTBEAT, moment)


def last_sweep() -> float | None:
    """The Unix time the last sweep ran, or None when none is recorded. Raises when the
    database cannot be read: the caller decides what an unknown answer means."""
    at = Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).values_list("at", flat=True).first()
    return at.timestamp() if at is not None else None


def sweep_lag() -> float | None:
    """Seconds since the last sweep ran, or None when none is recorded."""
    finished = last_sweep()
    return None if finished is None else max(0.0, time.time() - finished)
