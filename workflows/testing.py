"""``WorkflowTestEnv``: run workflows in-process, with no broker and a virtual clock.

Uses the real tables and the real executor; only the doorbell (an in-memory queue instead of
Celery, see ``workflows.inline``) and the clock (advanced by the test) differ. Inside the
``with`` block::

    run_id = start("sample_lifecycle", "S-1")
    env.run_until_idle()          # every due advance, step and timer, until nothing moves
    env.advance_time(3600)        # an hour passes: durable timers and retries come due
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from types import TracebackType

from django.utils import timezone

from workflows import clock
from workflows.inline import InlineRunner


class WorkflowTestEnv(InlineRunner):
    """With ``moving_clock``, time also passes between readings as on a real clock (each
    reading adds the real time elapsed since the env started), so events written one after
    the other carry different times, as in production. ``restart_between_units`` drops the
    workflows kept in memory before every advance and step, as if each ran on a freshly
    started worker: every decision is then made by a replay from the table."""

    def __init__(
        self,
        start: datetime | None = None,
        *,
        max_iterations: int = 100_000,
        moving_clock: bool = False,
        restart_between_units: bool = False,
    ) -> None:
        super().__init__(max_iterations=max_iterations, restart_between_units=restart_between_units)
        self._now = (start or timezone.now()).replace(microsecond=0)
        self._moving_since = time.monotonic() if moving_clock else None

    def now(self) -> datetime:
        if self._moving_since is None:
            return self._now
        return self._now + timedelta(seconds=time.monotonic() - self._moving_since)

    def __enter__(self) -> WorkflowTestEnv:
        super().__enter__()
        clock.set_override(self.now)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        clock.set_override(None)
        super().__exit__(exc_type, exc, tb)

    def advance_time(self, seconds: float | timedelta) -> int:
        """Move the clock forward, then run until idle (so due timers and retries happen)."""
        delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self._now += delta
        return self.run_until_idle()
