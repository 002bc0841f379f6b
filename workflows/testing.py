"""``WorkflowTestEnv``: run workflows in-process, with no broker and a virtual clock.

Uses the real tables and the real executor; only the doorbell (an in-memory queue instead of
Celery) and the clock (advanced by the test) differ. Inside the ``with`` block::

    run_id = start("sample_lifecycle", "S-1")
    env.run_until_idle()          # every due advance, step and timer, until nothing moves
    env.advance_time(3600)        # an hour passes: durable timers and retries come due
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from types import TracebackType

from django.utils import timezone

from workflows import clock, dispatch, executor, sessions
from workflows.models import Run


class _QueueBackend:
    def __init__(self) -> None:
        self.queue: deque[tuple[str, str | int]] = deque()

    def send_advance(self, run_id: str) -> None:
        self.queue.append(("advance", run_id))

    def send_step(
        self, step_id: int, queue: str, countdown: float | None, timeout: float | None
    ) -> None:
        self.queue.append(("step", step_id))


class WorkflowTestEnv:
    def __init__(self, start: datetime | None = None, *, max_iterations: int = 100_000) -> None:
        self._now = (start or timezone.now()).replace(microsecond=0)
        self._backend = _QueueBackend()
        self.max_iterations = max_iterations

    def now(self) -> datetime:
        return self._now

    def restart_workers(self) -> None:
        """What a deploy or a worker restart does to this process: the workflows it kept
        suspended in memory are dropped, so the next advance replays from the history (as
        a test that swaps code in place needs)."""
        sessions.clear()

    def __enter__(self) -> WorkflowTestEnv:
        sessions.clear()
        clock.set_override(self.now)
        dispatch.set_backend(self._backend)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        clock.set_override(None)
        dispatch.set_backend(None)
        sessions.clear()

    def run_until_idle(self) -> int:
        """Process every queued advance and step, sweep, and repeat until nothing changes."""
        processed = 0
        while True:
            processed += self._drain()
            before = self._fingerprint()
            report = executor.sweep()
            quiet = not (report.timers_fired or report.leases_expired or report.steps_redispatched)
            processed += self._drain()
            if quiet and self._fingerprint() == before:
                return processed

    def advance_time(self, seconds: float | timedelta) -> int:
        """Move the clock forward, then run until idle (so due timers and retries happen)."""
        delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=seconds)
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        self._now += delta
        return self.run_until_idle()

    def _drain(self) -> int:
        processed = 0
        queue = self._backend.queue
        while queue:
            processed += 1
            if processed > self.max_iterations:
                raise RuntimeError("the workflows did not become idle: is one looping forever?")
            kind, ident = queue.popleft()
            # As a worker does: a next step that a unit of work leaves alone is run at once.
            if kind == "advance":
                claim = executor.advance_run(str(ident), inline_queue=dispatch.ADVANCE_QUEUE)
            else:
                claim = executor.execute_step(int(ident))
            while claim is not None:
                claim = executor.run_claimed(claim)
        return processed

    @staticmethod
    def _fingerprint() -> list[tuple[object, str, int]]:
        return list(Run.objects.order_by("pk").values_list("pk", "status", "last_seq"))
