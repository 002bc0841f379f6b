"""Where ``@step`` and ``@workflow`` put what they decorate, at import time."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    """How a failing step is retried; intervals in seconds."""

    max_attempts: int = 3
    initial_interval: float = 1.0
    backoff: float = 2.0
    max_interval: float = 60.0
    non_retryable: tuple[type[BaseException], ...] = ()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_interval < 0 or self.max_interval < 0 or self.backoff < 1:
            raise ValueError("intervals must be >= 0 and backoff >= 1")

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.initial_interval * self.backoff ** (attempt - 1), self.max_interval)

    def is_retryable(self, error: BaseException) -> bool:
        return not isinstance(error, self.non_retryable)


@dataclass(frozen=True)
class StepDef:
    name: str
    fn: Callable[..., Any]
    queue: str
    retry: RetryPolicy
    timeout: float | None


@dataclass(frozen=True)
class WorkflowDef:
    name: str
    version: int
    fn: Callable[..., Any]


_steps: dict[str, StepDef] = {}
_workflows: dict[str, dict[int, WorkflowDef]] = {}


def register_step(definition: StepDef) -> None:
    existing = _steps.get(definition.name)
    if existing is not None and _origin(existing.fn) != _origin(definition.fn):
        raise ValueError(f"two different functions are registered as step {definition.name!r}")
    _steps[definition.name] = definition


def register_workflow(definition: WorkflowDef) -> None:
    if not inspect.iscoroutinefunction(definition.fn):
        raise TypeError(f"workflow {definition.name!r} must be an async def function")
    versions = _workflows.setdefault(definition.name, {})
    existing = versions.get(definition.version)
    if existing is not None and _origin(existing.fn) != _origin(definition.fn):
        raise ValueError(
            f"workflow {definition.name!r} version {definition.version} is registered twice"
        )
    versions[definition.version] = definition


def _origin(fn: Callable[..., Any]) -> tuple[str, str]:
    # Re-importing a module registers the same function again; that is not a conflict.
    return (fn.__module__, fn.__qualname__)


def get_step(name: str) -> StepDef | None:
    return _steps.get(name)


def step_names() -> list[str]:
    """Every step registered, by name (sorted)."""
    return sorted(_steps)


def get_workflow(name: str, version: int) -> WorkflowDef | None:
    return _workflows.get(name, {}).get(version)


def newest_workflow(name: str) -> WorkflowDef | None:
    versions = _workflows.get(name)
    return versions[max(versions)] if versions else None


def unregister_workflow(name: str, version: int) -> None:
    """For tests and operators simulating a deploy that removed a version."""
    _workflows.get(name, {}).pop(version, None)
