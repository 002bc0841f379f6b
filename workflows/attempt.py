"""One attempt of a step: call its function, time it, and say what is to be recorded: its
result, or the error that fails the attempt.

Two things a step's own code cannot be trusted with are decided here, after it returns:

- **Its time limit.** Celery's soft time limit raises ``SoftTimeLimitExceeded`` inside the
  step, and code such as ``try: slow() except Exception: return "x"`` swallows it. So an
  attempt that ran past its ``timeout`` (by the monotonic clock, or because the soft limit
  fired, caught or not) fails with ``StepTimeout`` whatever it returned or raised, and is
  retried by its policy like any failure. Steps a worker runs itself, without a broker and so
  without Celery's limit, are held to the same rule.
- **A result JSON cannot hold.** Recording it is impossible and running the step again would
  only repeat its side effects: ``ResultNotJSON`` fails the step at once, whatever its policy.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType
from typing import Any, NamedTuple

from billiard.pool import SIG_SOFT_TIMEOUT, soft_timeout_sighandler

from workflows.errors import ResultNotJSON, StepTimeout
from workflows.registry import StepDef
from workflows.replay import to_json


class Attempt(NamedTuple):
    result: Any  # JSON, when ``error`` is None
    error: Exception | None


def run_attempt(definition: StepDef, args: list[Any], attempt: int) -> Attempt:
    """Call the step once and judge what it did (see the module's docstring)."""
    with _SoftLimit(watch=definition.timeout is not None) as limit:
        started = time.monotonic()
        try:
            value: Any = definition.fn(*args)
            error: Exception | None = None
        except Exception as raised:  # the step's own failure: recorded, retried or raised
            value, error = None, raised
        finally:
            limit.running = False
            elapsed = time.monotonic() - started
    timeout = definition.timeout
    if timeout is not None and (elapsed > timeout or limit.fired):
        # Celery's limit counts from the task's start, a little before the step's own.
        measured = f"{elapsed:.1f}s" if elapsed > timeout else "its soft time limit fired"
        late = f"attempt {attempt} ran past its {timeout:g}s timeout ({measured})"
        what = "what it returned is not recorded" if error is None else f"it raised {_name(error)}"
        return Attempt(None, StepTimeout(f"{late}: {what}"))
    if error is not None:
        return Attempt(None, error)
    try:
        return Attempt(to_json(value, f"the result of step {definition.name!r}"), None)
    except TypeError as not_json:
        return Attempt(None, ResultNotJSON(str(not_json)))


def _name(error: Exception) -> str:
    name, message = type(error).__name__, str(error)
    return f"{name}: {message}" if message and message != f"{name}()" else name


class _SoftLimit:
    """Notes whether Celery's soft time limit fired while the step ran, even if the step
    caught the exception it raised.

    Celery delivers the limit to its pool process as a signal whose handler raises
    ``SoftTimeLimitExceeded``; inside the ``with`` block that handler is wrapped to note it
    first. Where it is not installed (not a Celery pool process, or not its main thread), or
    for a step without a timeout, there is no soft limit to watch. Once ``running`` is cleared
    (the step returned), a limit that fires is only noted: it interrupts nothing of the
    engine's own."""

    def __init__(self, *, watch: bool) -> None:
        self.fired = False
        self.running = False
        self._watching = (
            watch
            and SIG_SOFT_TIMEOUT is not None
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(SIG_SOFT_TIMEOUT) is soft_timeout_sighandler
        )

    def __enter__(self) -> _SoftLimit:
        if self._watching:
            signal.signal(SIG_SOFT_TIMEOUT, self._noting)
        self.running = True
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.running = False
        if self._watching:
            signal.signal(SIG_SOFT_TIMEOUT, soft_timeout_sighandler)

    def _noting(self, signum: int, frame: FrameType | None) -> None:
        self.fired = True
        if self.running:
            soft_timeout_sighandler(signum, frame)
