"""Celery beat's heartbeat: proof, readable from any process, that beat is alive and scheduling.

``HeartbeatScheduler`` (``CELERY_BEAT_SCHEDULER``) is Celery's file-backed scheduler that also
writes the time of each of its ticks to the cache, and ticks at least every
``HEARTBEAT_SECONDS``. The deep health check and beat's own container health check
(``python -m labtrack.probe beat``) read its age with ``beat_status``. A beat that hangs or dies
stops writing, so the age grows past ``HEALTH_BEAT_MAX_AGE_SECONDS``.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from celery.beat import PersistentScheduler
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

HEARTBEAT_KEY = "beat:heartbeat"
HEARTBEAT_SECONDS = 10


def record_heartbeat(*, at: float | None = None) -> None:
    """Write the heartbeat (a Unix time; now when omitted). A failure is logged, never raised:
    beat keeps scheduling while the cache is away, and its health check reports the silence."""
    try:
        cache.set(HEARTBEAT_KEY, time.time() if at is None else at, timeout=None)
    except Exception:  # the cache backend's own errors: Redis down, refused, timed out
        log.exception("could not write beat's heartbeat")


class HeartbeatScheduler(PersistentScheduler):
    # Beat sleeps until the next entry is due, but never longer than this between ticks.
    max_interval = HEARTBEAT_SECONDS

    def tick(self, *args: Any, **kwargs: Any) -> float:
        record_heartbeat()
        return float(super().tick(*args, **kwargs))


@dataclass(frozen=True)
class BeatStatus:
    """``state`` is ``ok``, ``stale`` (older than the limit), ``never seen`` or ``unknown`` (the
    cache could not be read); ``age`` is in seconds when a heartbeat was read."""

    state: str
    age: float | None

    @property
    def ok(self) -> bool:
        return self.state == "ok"


def beat_status() -> BeatStatus:
    try:
        beaten = cache.get(HEARTBEAT_KEY)
    except Exception:  # the cache backend's own errors
        log.exception("health check: beat's heartbeat could not be read")
        return BeatStatus("unknown", None)
    if beaten is None:
        return BeatStatus("never seen", None)
    age = max(0.0, time.time() - float(beaten))
    fresh = age <= settings.HEALTH_BEAT_MAX_AGE_SECONDS
    return BeatStatus("ok" if fresh else "stale", age)
