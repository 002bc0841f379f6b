"""When the sweep last finished: written by the ``workflows.sweep`` task, read by health checks
and metrics.

The time is kept in Django's cache (shared by every process), not in an engine table: it is
operational state, rebuilt by the next sweep within ``WORKFLOWS_SWEEP_SECONDS`` if it is lost.
Wall-clock time (``time.time()``), never the engine's replaceable clock: the question is how long
ago, for an operator, the sweep really ran.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)

LAST_SWEEP_KEY = "workflows:last-sweep"


def record_sweep(*, at: float | None = None) -> None:
    """Remember that a sweep finished ``at`` (a Unix time; now when omitted). A cache that cannot
    be written is logged, never raised: the sweep itself did its work."""
    try:
        cache.set(LAST_SWEEP_KEY, time.time() if at is None else at, timeout=None)
    except Exception:  # the cache backend's own errors: Redis down, refused, timed out
        log.exception("could not record the time of the workflow sweep")


def last_sweep() -> float | None:
    """The Unix time the last sweep finished, or None when none is recorded. Raises when the
    cache cannot be read: the caller decides what an unknown answer means."""
    value = cache.get(LAST_SWEEP_KEY)
    return float(value) if value is not None else None


def sweep_lag() -> float | None:
    """Seconds since the last sweep finished, or None when none is recorded."""
    finished = last_sweep()
    return None if finished is None else max(0.0, time.time() - finished)
