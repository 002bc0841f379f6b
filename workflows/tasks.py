"""Thin Celery tasks: ids in, nothing out. The executor does the work.

``CeleryBackend`` sends them; the app's ``ready()`` installs it as the engine's backend
(``workflows.dispatch``), so the executor sends without importing this module.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from billiard.einfo import ExceptionInfo, ExceptionWithTraceback
from celery import shared_task
from celery.exceptions import WorkerLostError
from celery.signals import worker_ready
from celery.worker.request import Request
from django.db import connection

from workflows import executor, lost
from workflows.dispatch import ADVANCE_QUEUE, after_commit
from workflows.store import Claim

log = logging.getLogger(__name__)


class AdvanceRequest(Request):
    """An ``advance_run`` message as the worker's main process handles it.

    When the pool process running it dies (the workflow's code called ``os._exit``, or ran out
    of memory), Celery puts the message straight back on the queue (late acknowledgement,
    reject on worker lost), and the sweep would advance the run again anyway: code that dies
    each time would come back forever. So the loss is counted on the run first, and once the
    run is parked (``workflows.lost``) the message is acknowledged instead of going back."""

    def on_failure(
        self, exc_info: ExceptionInfo, send_failed_event: bool = True, return_ok: bool = False
    ) -> None:
        if _process_died(exc_info.exception) and self._give_up() and not self.acknowledged:
            self.acknowledge()  # Celery's handling below then has nothing left to requeue
        super().on_failure(exc_info, send_failed_event=send_failed_event, return_ok=return_ok)

    def _give_up(self) -> bool:
        """Count the loss on the run; True when the advance is given up (the run is parked)."""
        run_id = str(self.args[0]) if self.args else ""
        try:
            return lost.record_lost_advance(run_id)
        except Exception:  # the database is out of reach: Celery redelivers, as without us
            log.exception("could not count the lost advance of run %s", run_id)
            return False
        finally:
            # The main process forks new pool processes: none may inherit its connection.
            connection.close()


def _process_died(error: BaseException) -> bool:
    """Whether a task failed because the pool process running it died (Celery treats an exit
    it is told of like the loss of the process)."""
    if isinstance(error, ExceptionWithTraceback):
        error = error.exc
    return isinstance(error, (WorkerLostError, SystemExit, KeyboardInterrupt))


@shared_task(
    name="workflows.advance_run", acks_late=True, ignore_result=True, Request=AdvanceRequest
)
def advance_run(run_id: str) -> None:
    _run_inline(executor.advance_run(run_id, inline_queue=ADVANCE_QUEUE))


@shared_task(name="workflows.execute_step", acks_late=True, ignore_result=True)
def execute_step(step_id: int) -> None:
    _run_inline(executor.execute_step(step_id))


def _run_inline(claim: Claim | None) -> None:
    """Run the run's next steps here, one after another, while each leaves exactly one."""
    while claim is not None:
        claim = executor.run_claimed(claim)


class CeleryBackend:
    """Sends ``advance_run`` and ``execute_step`` after the commit (``workflows.dispatch``)."""

    def send_advance(self, run_id: str) -> None:
        after_commit(lambda: advance_run.apply_async(args=[run_id], queue=ADVANCE_QUEUE))

    def send_advances(self, run_ids: Sequence[str]) -> None:
        """One message per run, sent after the commit over one broker connection."""
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

        after_commit(send)

    def send_step(
        self, step_id: int, queue: str, countdown: float | None, timeout: float | None
    ) -> None:
        options: dict[str, object] = {"queue": queue}
        if countdown:
            options["countdown"] = countdown  # a hint only: the row's next_attempt_at decides
        if timeout:
            # Past the soft limit the step sees SoftTimeLimitExceeded (a failed attempt, retried);
            # past the hard limit its process is killed and the lease expiry does the rest.
            options["soft_time_limit"] = timeout
            options["time_limit"] = timeout + 5
        after_commit(lambda: execute_step.apply_async(args=[step_id], **options))


@shared_task(name="workflows.sweep", ignore_result=True)
def sweep() -> None:
    """Runs every few seconds (beat): one INFO line when it put something right, none when
    there was nothing to do (Celery's own lines for each task are quieted in labtrack.logs)."""
    report = executor.sweep()
    fields = {
        "timers_fired": report.timers_fired,
        "leases_expired": report.leases_expired,
        "steps_redispatched": report.steps_redispatched,
        "runs_advanced": report.runs_advanced,
        "runs_nudged": report.runs_nudged,
        "blocked_retried": report.blocked_retried,
    }
    level = logging.INFO if report.did_work else logging.DEBUG
    log.log(level, "workflow sweep: %s", report, extra=fields)


@worker_ready.connect
def sweep_at_worker_start(sender: object = None, **kwargs: object) -> None:
    """A worker that starts after a crash picks up at once what the crash left behind."""
    sweep.delay()
