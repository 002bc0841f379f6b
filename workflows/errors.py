"""The engine's errors: one family under ``WorkflowError``, so that code using the engine can
catch whatever it raises, or hands to workflow code, with one ``except``.

Pure Python (the replay core imports it). Wrong arguments (a negative timeout, a payload JSON
cannot hold, ``current_step()`` outside a step) stay ``ValueError``, ``TypeError`` and
``RuntimeError``: they are mistakes in the calling code, not answers of the engine.

A workflow whose code no longer matches its history raises nothing: the run is *blocked*
(``RunInfo.status == "blocked"``, the reason in ``RunInfo.waiting_for``) until matching code is
deployed or a person resumes it, and the deploy check (``workflows.ops.replay_check``) lists
such runs beforehand.
"""

from __future__ import annotations


class WorkflowError(Exception):
    """The base of every error the engine defines."""


# --- what callers of ``workflows.api`` see ---------------------------------------------------


class RunNotFound(WorkflowError, LookupError):
    """There is no workflow run with that id."""


class WorkflowNotFound(WorkflowError, LookupError):
    """``start`` names a workflow no loaded module registers."""


# --- what workflow code sees at an await -----------------------------------------------------


class StepFailed(WorkflowError):
    """A step failed on its last attempt (or with a non-retryable error)."""

    def __init__(self, step: str, error_type: str, message: str, attempts: int) -> None:
        super().__init__(
            f"step {step!r} failed after {attempts} attempt(s): {error_type}: {message}"
        )
        self.step = step
        self.error_type = error_type
        self.message = message
        self.attempts = attempts


class SignalTimeout(WorkflowError):
    """``wait_signal(name, timeout=...)`` ran out of time before the signal arrived."""

    def __init__(self, name: str) -> None:
        super().__init__(f"signal {name!r} did not arrive in time")
        self.name = name


class Cancelled(WorkflowError):
    """The run was cancelled; raised at the await where the workflow was when it happened."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(f"run cancelled: {reason}" if reason else "run cancelled")
        self.reason = reason


# --- why an attempt of a step failed (recorded as its ``error_type``; the workflow sees
# ``StepFailed`` once the step has no attempt left) -------------------------------------------


class StepTimeout(WorkflowError):
    """The attempt ran past its step's timeout (what it returned is not recorded), or its
    lease expired (its worker was lost, or the step ran too long)."""


class ResultNotJSON(WorkflowError, TypeError):
    """The step returned something JSON cannot hold. A final failure: it is not retried."""


# --- what operators see (``workflows.ops``, ``manage.py workflows``) ---------------------------


class InterventionRefused(WorkflowError):
    """The intervention does not apply, or the person may not make it; nothing changed."""


class OperationRefused(WorkflowError):
    """The action does not apply to the run as it is now; nothing changed."""
