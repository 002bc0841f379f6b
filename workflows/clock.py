"""The engine's notion of "now": server time, replaceable by WorkflowTestEnv's virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

_override: Callable[[], datetime] | None = None


def now() -> datetime:
    return _override() if _override is not None else timezone.now()


def set_override(source: Callable[[], datetime] | None) -> None:
    global _override
    _override = source
