"""Hand-written SQL for the writes every step makes, sent pipelined (psycopg pipeline mode) so
that a step costs a few round trips instead of one per statement. Only ``workflows.store``
calls this; everything less frequent goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.db import connection
from django.db.models import Field, Model

from workflows.models import HistoryEvent, Run, StepStatus, StepTask


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _field(model: type[Model], name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", model._meta.get_field(name))


def _prep(model: type[Model], name: str, value: Any) -> Any:
    return _field(model, name).get_db_prep_save(value, connection)


@contextmanager
def _pipeline() -> Iterator[None]:
    connection.ensure_connection()
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield


_RUN_FIELDS = [f for f in Run._meta.concrete_fields]


def lock_and_finish_step(run_id: str, step_id: int, attempt: int) -> tuple[Run, bool]:
    """Lock the run row and mark the step completed if ``attempt`` still owns it, in one round
    trip. Returns the locked run and whether the step was owned."""
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _RUN_FIELDS)
    with connection.cursor() as lock, connection.cursor() as finish:
        with _pipeline():
            lock.execute(f"SELECT {columns} FROM {_table(Run)} WHERE id = %s FOR UPDATE", [run_id])
            finish.execute(
                f"UPDATE {_table(StepTask)} SET status = %s, lease_expires_at = NULL "
                "WHERE id = %s AND status = %s AND attempt = %s",
                [StepStatus.COMPLETED, step_id, StepStatus.RUNNING, attempt],
            )
        row = lock.fetchone()
        owned = finish.rowcount == 1
    assert row is not None, "a claimed step's run exists"
    values = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(_RUN_FIELDS, row, strict=True)
    ]
    return Run.from_db(connection.alias, [f.attname for f in _RUN_FIELDS], values), owned


_EVENT_COLUMNS = ["run_id", "seq", "kind", "cmd", "attempt", "data", "actor", "reason",
                  "dedupe_key", "created_at"]  # fmt: skip
_STEP_COLUMNS = ["run_id", "cmd", "name", "args", "queue", "status", "attempt", "max_attempts",
                 "next_attempt_at", "lease_expires_at", "dispatched_at"]  # fmt: skip


def write(
    run: Run,
    events: Sequence[HistoryEvent],
    steps: Sequence[StepTask],
    run_fields: dict[str, Any],
) -> None:
    """Insert ``steps`` (setting their ids) and ``events``, and update the run row with
    ``run_fields``: one round trip."""
    assignments = ", ".join(
        f"{connection.ops.quote_name(_field(Run, name).column)} = %s" for name in run_fields
    )
    with connection.cursor() as inserted, connection.cursor() as cursor:
        with _pipeline():
            if steps:
                inserted.execute(*_insert(StepTask, _STEP_COLUMNS, steps, returning="id"))
            if events:
                cursor.execute(*_insert(HistoryEvent, _EVENT_COLUMNS, events))
            cursor.execute(
                f"UPDATE {_table(Run)} SET {assignments} WHERE id = %s",
                [*(_prep(Run, name, value) for name, value in run_fields.items()), run.pk],
            )
        ids = inserted.fetchall() if steps else []
    for step, (step_id,) in zip(steps, ids, strict=True):
        step.pk = step_id
        step._state.adding = False


def _insert(
    model: type[Model], columns: list[str], rows: Sequence[Model], returning: str = ""
) -> tuple[str, list[Any]]:
    fields = [_field(model, c.removesuffix("_id")) for c in columns]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = [
        field.get_db_prep_save(getattr(row, field.attname), connection)
        for row in rows
        for field in fields
    ]
    sql = (
        f"INSERT INTO {_table(model)} ({', '.join(f.column for f in fields)}) "
        f"VALUES {', '.join([placeholders] * len(rows))}"
    )
    return (sql + f" RETURNING {returning}" if returning else sql), params
