"""Reading the history of every run at once, for reports that put it next to their own tables
(an audit trail, an export). Read only: the engine alone writes the history.
"""

from __future__ import annotations

from workflows.models import HistoryEvent

# Every kind of history event the engine writes (docs/workflows.md, "History").
HISTORY_KINDS = [
    "run_started",
    "signal_received",
    "signal_consumed",
    "wait_started",
    "wait_timed_out",
    "step_scheduled",
    "step_started",
    "step_completed",
    "step_failed",
    "timer_started",
    "timer_fired",
    "patch_marker",
    "cancel_requested",
    "cancel_delivered",
    "retry_requested",
    "resume_requested",
    "intervention_requested",
    "intervention_approved",
    "intervention_refused",
    "run_restarted",
    "run_superseded",
    "run_completed",
    "run_failed",
    "run_cancelled",
]

# The columns of ``history_sql()``, in order.
HISTORY_COLUMNS = ("id", "run_id", "seq", "kind", "data", "actor", "reason", "created_at")


def history_sql() -> str:
    """A ``SELECT`` of every history event of every run, to use as a subquery: its columns are
    ``HISTORY_COLUMNS`` (``id`` orders events written at the same time, ``created_at`` is the
    server's UTC time). A caller's filters on these columns reach the table's indexes."""
    meta = HistoryEvent._meta
    fields = {f.name: f.column for f in meta.concrete_fields} | {"run_id": "run_id"}
    columns = ", ".join(f'"{fields[name]}" AS {name}' for name in HISTORY_COLUMNS)
    return f'SELECT {columns} FROM "{meta.db_table}"'
