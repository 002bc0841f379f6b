"""Thin Celery tasks: ids in, nothing out. The executor does the work."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

from workflows import executor
from workflows.dispatch import ADVANCE_QUEUE
from workflows.store import Claim

log = logging.getLogger(__name__)


@shared_task(name="workflows.advance_run", acks_late=True, ignore_result=True)
def advance_run(run_id: str) -> None:
    _run_inline(executor.advance_run(run_id, inline_queue=ADVANCE_QUEUE))


@shared_task(name="workflows.execute_step", acks_late=True, ignore_result=True)
def execute_step(step_id: int) -> None:
    _run_inline(executor.execute_step(step_id))


def _run_inline(claim: Claim | None) -> None:
    """Run the run's next steps here, one after another, while each leaves exactly one."""
    while claim is not None:
        claim = executor.run_claimed(claim)


@shared_task(name="workflows.sweep", ignore_result=True)
def sweep() -> None:
    report = executor.sweep()
    if report.timers_fired or report.leases_expired or report.steps_redispatched:
        log.info("workflow sweep: %s", report)


@worker_ready.connect
def sweep_at_worker_start(sender: object = None, **kwargs: object) -> None:
    """A worker that starts after a crash picks up at once what the crash left behind."""
    sweep.delay()
