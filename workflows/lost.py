"""Runs whose workflow code kills the process that advances it.

A step that takes its worker process down is bounded: its lease expires and counts as a failed
attempt. An advance is not: Celery acknowledges late and hands the message of a pool process
that died straight back to the queue, so workflow code that dies every time (``os._exit``, the
kernel's out-of-memory killer) would be advanced, and lost, forever. The worker's main process,
which sees its pool process die, counts the loss on the run (``Run.lost_advances``, in the
database like everything the engine knows). At ``WORKFLOWS_MAX_LOST_ADVANCES`` in a row the run
is parked as blocked and its message dropped. Any advance that gets through forgets the count.

The sweep re-advances blocked runs, since a deploy may have fixed them; a parked run it leaves
alone, or it would die again, forever. A person takes it up again (resume, ``workflows retry``),
and then a worker advances it, never the person's own process.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from workflows import store
from workflows.dispatch import backend
from workflows.models import FINISHED, Run, RunStatus

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 3


def limit() -> int:
    """How many advances of a run may be lost in a row before it is parked."""
    return int(getattr(settings, "WORKFLOWS_MAX_LOST_ADVANCES", DEFAULT_LIMIT))


def parked(run: Run) -> bool:
    """Whether the run waits, blocked, for a person because its code was lost too often."""
    return run.status == RunStatus.BLOCKED and run.lost_advances >= limit()


def record_lost_advance(run_id: str) -> bool:
    """Count an advance of the run lost with its worker process; at the limit, park the run.

    Returns whether to give that advance up (its message must not go back to the queue): the
    run is parked now, or was already, or has finished (there is nothing left to advance)."""
    with transaction.atomic():
        run = store.lock_run(run_id)
        if run is None or run.status in FINISHED or parked(run):
            return True
        lost = run.lost_advances + 1
        if lost < limit():
            store.count_lost_advance(run, lost)
            return False
        reason = (
            f"the workflow's code was lost {lost} times while advancing (its worker process "
            "died): fix the code or the worker, then resume"
        )
        store.count_lost_advance(run, lost, park=reason)
    log.error("workflow run %s is blocked: %s", run_id, reason)
    return True


def take_up(run: Run) -> str:
    """A person takes up a parked run (locked by the caller): its count starts again and a
    worker advances it after the commit. Never this process: the code may kill it again.
    Returns what it did, in words."""
    lost = run.lost_advances
    store.save_run(run, lost_advances=0, needs_advance=True)
    backend().send_advance(str(run.pk))
    return (
        f"sent to a worker to advance against the code now loaded (its code had been lost "
        f"{lost} times while advancing)"
    )
