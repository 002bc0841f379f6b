"""The engine for workflow code and the code that drives it: everything a workflow and its
callers use. Operators and the audit trail use ``workflows.ops``; every other module in
``workflows`` is internal.

Define steps (plain functions, JSON in and out) and workflows (``async def`` functions whose
every ``await`` on the context is a checkpoint)::

    @step(retry=RetryPolicy(max_attempts=5))
    def record_receipt(barcode, condition): ...

    @workflow("sample_lifecycle", version=1)
    async def sample_lifecycle(ctx, barcode):
        receipt = await ctx.wait_signal("received")
        await ctx.step(record_receipt, barcode, receipt["condition"])

then ``start``, ``signal``, ``cancel`` and ``get_run`` from anywhere, inside a transaction or not.
``RunInfo.waiting_for`` says in the engine's words what a run waits for, ``RunInfo.waits`` the
same as data (``Wait``) for an application's own words; ``wait_settled`` waits, briefly, for a
run to take in a signal and reach its next wait.
Every error the engine raises derives from ``WorkflowError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import transaction

from workflows import store
from workflows.dispatch import backend
from workflows.errors import (
    Cancelled,
    RunNotFound,
    SignalTimeout,
    StepFailed,
    WorkflowError,
    WorkflowNotFound,
)
from workflows.executor import StepInfo, current_step_info
from workflows.models import FINISHED, HistoryEvent
from workflows.registry import RetryPolicy, StepDef, WorkflowDef, register_step, register_workflow
from workflows.registry import newest_workflow as _newest
from workflows.replay import Context, to_json
from workflows.waits import Wait, wait_settled, waits_of

__all__ = [
    "FINISHED",
    "Cancelled",
    "Context",
    "HistoryEntry",
    "RetryPolicy",
    "RunInfo",
    "RunNotFound",
    "Signal",
    "SignalTimeout",
    "StepFailed",
    "StepInfo",
    "Wait",
    "WorkflowError",
    "WorkflowNotFound",
    "cancel",
    "current_step",
    "get_run",
    "signal",
    "signal_many",
    "start",
    "step",
    "wait_settled",
    "workflow",
]

F = TypeVar("F", bound=Callable[..., Any])


def step(
    name: str | None = None,
    *,
    queue: str = "default",
    retry: RetryPolicy = RetryPolicy(),  # noqa: B008 - frozen, shared safely
    timeout: float | None = None,
) -> Callable[[F], F]:
    """Register a plain function as a step. Its arguments and result must be JSON."""
    if timeout is not None and timeout <= 0:
        raise ValueError("timeout must be a positive number of seconds")

    def decorate(fn: F) -> F:
        step_name = name or f"{fn.__module__}.{fn.__qualname__}"
        register_step(StepDef(step_name, fn, queue, retry, timeout))
        fn.step_name = step_name  # type: ignore[attr-defined]
        return fn

    return decorate


def workflow(name: str, version: int = 1) -> Callable[[F], F]:
    """Register ``async def fn(ctx, *args)`` as version ``version`` of workflow ``name``."""
    if version < 1:
        raise ValueError("versions start at 1")

    def decorate(fn: F) -> F:
        register_workflow(WorkflowDef(name, version, fn))
        fn.workflow_name = name  # type: ignore[attr-defined]
        fn.workflow_version = version  # type: ignore[attr-defined]
        return fn

    return decorate


def start(name: str, *args: Any, key: str | None = None, actor: str | None = None) -> str:
    """Start the newest registered version of ``name``; the same ``key`` returns the same run.
    Raises ``WorkflowNotFound`` when no loaded module registers ``name``.

    Safe inside the caller's transaction: nothing is sent to a worker until it commits.
    """
    definition = _newest(name)
    if definition is None:
        raise WorkflowNotFound(f"no workflow named {name!r} is registered")
    arguments = to_json(list(args), f"arguments of workflow {name!r}")
    run_id, created = store.create_run(
        workflow=name, version=definition.version, args=arguments, key=key, actor=actor or ""
    )
    if created:
        backend().send_advance(run_id)
    return run_id


def signal(
    run_id: str,
    name: str,
    payload: Any = None,
    *,
    actor: str | None = None,
    reason: str | None = None,
    idempotency_key: str | None = None,
) -> bool:
    """Record a signal for the run. Returns False if ``idempotency_key`` was seen before.

    Signals sent before the workflow waits for them are kept until it does.
    """
    return signal_many([Signal(run_id, name, payload, actor, reason, idempotency_key)])[0]


@dataclass(frozen=True)
class Signal:
    """One signal for ``signal_many``: the arguments of ``signal``."""

    run_id: str
    name: str
    payload: Any = None
    actor: str | None = None
    reason: str | None = None
    idempotency_key: str | None = None


def signal_many(signals: Sequence[Signal]) -> list[bool]:
    """Record several signals, to one run or many, as ``signal`` would one by one (in order,
    all or none), in a few statements whatever their number. Returns, for each, whether it was
    recorded. Raises ``RunNotFound`` (recording none) if a run does not exist."""
    requests = [
        store.SignalRequest(
            str(s.run_id),
            s.name,
            to_json(s.payload, f"the payload of signal {s.name!r}"),
            s.actor or "",
            s.reason or "",
            s.idempotency_key,
        )
        for s in signals
    ]
    if not requests:
        return []
    with transaction.atomic(savepoint=False):  # nothing to undo when a run is missing
        recorded, woken, missing = store.record_signals(requests)
    if missing is not None:
        raise RunNotFound(f"no workflow run {missing!r}")
    backend().send_advances(woken)
    return recorded


def cancel(run_id: str, *, actor: str, reason: str) -> bool:
    """Ask the run to stop; it sees ``Cancelled`` at its current await and may clean up.

    Returns False if the run had already finished. A reason is required.

    The primitive for code that owns the run (an application ending a lifecycle its own rules
    ended, such as a rejected sample): it takes effect at once. A person's cancellation goes
    through ``workflows.ops.intervene(run_id, "cancel", ...)`` and a second person's
    ``workflows.ops.decide``, which delivers the same cancellation only once approved; the
    console and ``manage.py workflows cancel`` go that way.
    """
    if not reason or not reason.strip():
        raise ValueError("a cancellation needs a reason")
    with transaction.atomic():
        run = store.lock_run(run_id)
        if run is None:
            raise RunNotFound(f"no workflow run {run_id!r}")
        if run.status in FINISHED:
            return False
        store.record_cancel(run, actor=actor, reason=reason)
    backend().send_advance(run_id)
    return True


def current_step() -> StepInfo:
    """Inside a running step: its run, position, attempt and idempotency key."""
    info = current_step_info.get()
    if info is None:
        raise RuntimeError("current_step() is only available while a step runs")
    return info


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    kind: str
    at: datetime
    cmd: int | None
    attempt: int | None
    data: dict[str, Any]
    actor: str
    reason: str


@dataclass(frozen=True)
class RunInfo:
    id: str
    workflow: str
    version: int
    status: str
    result: Any
    error: dict[str, str] | None
    waiting_for: str
    key: str | None
    created_at: datetime
    finished_at: datetime | None
    history: list[HistoryEntry]
    # What ``waiting_for`` says, one ``Wait`` per await, to be worded by the application (kept
    # while the run is blocked: what it waited for when it stopped). Empty once finished.
    waits: tuple[Wait, ...] = ()


def get_run(run_id: str, *, history: bool = True) -> RunInfo:
    """The run's state and, unless ``history=False`` (a status poll), its whole history."""
    run = store.find_run(run_id)
    if run is None:
        raise RunNotFound(f"no workflow run {run_id!r}")
    events = HistoryEvent.objects.filter(run=run).order_by("seq") if history else []
    return RunInfo(
        id=str(run.pk),
        workflow=run.workflow,
        version=run.version,
        status=run.status,
        result=run.result,
        error=run.error,
        waiting_for=run.blocked_reason if run.status == "blocked" else run.waiting_for,
        key=run.key,
        created_at=run.created_at,
        finished_at=run.finished_at,
        history=[
            HistoryEntry(e.seq, e.kind, e.created_at, e.cmd, e.attempt, e.data, e.actor, e.reason)
            for e in events
        ],
        waits=waits_of(run.waits),
    )
