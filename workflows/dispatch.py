"""How the engine rings the doorbell. Production sends Celery tasks after commit; the test env
queues them in memory. Nothing here decides anything: the rows do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from django.db import transaction

# Advances go to this queue; a worker taking one may run a next step bound for it at once.
ADVANCE_QUEUE = "default"


class Backend(Protocol):
    def send_advance(self, run_id: str) -> None: ...
    def send_advances(self, run_ids: Sequence[str]) -> None: ...
    def send_step(
        self, step_id: int, queue: str, countdown: float | None, timeout: float | None
    ) -> None: ...


class CeleryBackend:
    def send_advance(self, run_id: str) -> None:
        from workflows.tasks import advance_run

        _after_commit(lambda: advance_run.apply_async(args=[run_id], queue=ADVANCE_QUEUE))

    def send_advances(self, run_ids: Sequence[str]) -> None:
        """One message per run, sent after the commit over one broker connection."""
        from workflows.tasks import advance_run

        if not run_ids:
            return
        if len(run_ids) == 1:
            self.send_advance(run_ids[0])
            return
        ids = list(run_ids)

        def send() -> None:
            with advance_run.app.producer_or_acquire() as producer:
                for run_id in ids:
                    advance_run.apply_async(args=[run_id], queue=ADVANCE_QUEUE, producer=producer)

        _after_commit(send)

    def send_step(
        self, step_id: int, queue: str, countdown: float | None, timeout: float | None
    ) -> None:
        from workflows.tasks import execute_step

        options: dict[str, object] = {"queue": queue}
        if countdown:
            options["countdown"] = countdown  # a hint only: the row's next_attempt_at decides
        if timeout:
            # Past the soft limit the step sees SoftTimeLimitExceeded (a failed attempt, retried);
            # past the hard limit its process is killed and the lease expiry does the rest.
            options["soft_time_limit"] = timeout
            options["time_limit"] = timeout + 5
        _after_commit(lambda: execute_step.apply_async(args=[step_id], **options))


def _after_commit(send: Callable[[], object]) -> None:
    transaction.on_commit(send, robust=True)  # a broker hiccup must not undo the commit


_backend: Backend = CeleryBackend()


def backend() -> Backend:
    return _backend


def set_backend(new: Backend | None) -> None:
    global _backend
    _backend = new if new is not None else CeleryBackend()
