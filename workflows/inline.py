"""Run the engine's work in this process instead of on Celery workers.

Inside ``with InlineRunner() as runner:`` nothing is sent to the broker: advances and steps
queue in memory, and ``runner.run_until_idle()`` executes every queued and due unit (sweeping
for due timers too) until nothing moves. For commands that must see their workflows move on
without a worker (demo data); ``workflows.testing.WorkflowTestEnv`` adds a virtual clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from types import TracebackType

from workflows import dispatch, executor, sessions
from workflows.models import Run


class _QueueBackend:
    def __init__(self) -> None:
        self.queue: deque[tuple[str, str | int]] = deque()

    def send_advance(self, run_id: str) -> None:
        self.queue.append(("advance", run_id))

    def send_advances(self, run_ids: Sequence[str]) -> None:
        self.queue.extend(("advance", run_id) for run_id in run_ids)

    def send_step(
        self, step_id: int, queue: str, countdown: float | None, timeout: float | None
    ) -> None:
        self.queue.append(("step", step_id))


class InlineRunner:
    def __init__(
        self, *, max_iterations: int = 100_000, restart_between_units: bool = False
    ) -> None:
        self._backend = _QueueBackend()
        self.max_iterations = max_iterations
        self.restart_between_units = restart_between_units

    def __enter__(self) -> InlineRunner:
        sessions.clear()
        dispatch.set_backend(self._backend)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        dispatch.set_backend(None)
        sessions.clear()

    def restart_workers(self) -> None:
        """What a deploy or a worker restart does to this process: the workflows it kept
        suspended in memory are dropped, so the next advance replays from the history (as
        a test that swaps code in place needs)."""
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

    def _drain(self) -> int:
        processed = 0
        queue = self._backend.queue
        while queue:
            processed += 1
            if processed > self.max_iterations:
                raise RuntimeError("the workflows did not become idle: is one looping forever?")
            kind, ident = queue.popleft()
            if self.restart_between_units:
                sessions.clear()
            # As a worker does: a next step that a unit of work leaves alone is run at once.
            if kind == "advance":
                claim = executor.advance_run(str(ident), inline_queue=dispatch.ADVANCE_QUEUE)
            else:
                claim = executor.execute_step(int(ident))
            while claim is not None:
                if self.restart_between_units:
                    sessions.clear()
                claim = executor.run_claimed(claim)
        return processed

    @staticmethod
    def _fingerprint() -> list[tuple[object, str, int]]:
        return list(Run.objects.order_by("pk").values_list("pk", "status", "last_seq"))
