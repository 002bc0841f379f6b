"""How the engine rings the doorbell. Nothing here decides anything: the rows do.

The engine sends through the ``Backend`` installed for the process: in production the Celery
backend (``workflows.tasks.CeleryBackend``, installed by the app's ``ready()``), which sends
its tasks after the commit; for a while an in-memory queue instead (``set_backend``, used by
``workflows.inline`` and the test env). This module imports neither the tasks nor the
executor, so the three form no import cycle.
"""

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


def after_commit(send: Callable[[], object]) -> None:
    """Send once the transaction commits (at once outside one)."""
    transaction.on_commit(send, robust=True)  # a broker hiccup must not undo the commit


_installed: Backend | None = None  # the process's own: Celery's, from the app's ready()
_override: Backend | None = None  # in force instead of it for a while (``set_backend``)


def install(default: Backend) -> None:
    """Make ``default`` the process's backend (the app's ``ready()`` installs Celery's)."""
    global _installed
    _installed = default


def backend() -> Backend:
    chosen = _override if _override is not None else _installed
    if chosen is None:
        raise RuntimeError("no workflow backend is installed: the workflows app is not ready")
    return chosen


def set_backend(new: Backend | None) -> None:
    """Send through ``new`` until called again; None goes back to the installed backend."""
    global _override
    _override = new
