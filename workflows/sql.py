"""Hand-written SQL for the writes every step makes, pipelined (psycopg pipeline mode) so that a
step costs a few round trips instead of one per statement, without the ORM's per-query cost.
Only ``workflows.store`` calls this; everything less frequent goes through the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

import psycopg
from django.db import connection
from django.db.models import JSONField
from psycopg.types.json import Jsonb

from workflows.models import HistoryEvent, Run, StepStatus, StepTask, Timer


@dataclass(slots=True)
class NewEvent:
    """A history row waiting to be inserted (in ``HistoryEvent``'s column order below)."""

    seq: int
    kind: str
    cmd: int | None
    attempt: int | None
    data: dict[str, Any]
    actor: str
    reason: str
    dedupe_key: str | None
    created_at: datetime


_EVENT_COLUMNS = ("run_id", "seq", "kind", "cmd", "attempt", "data", "actor", "reason",
                  "dedupe_key", "created_at")  # fmt: skip
_STEP_COLUMNS = ("run_id", "cmd", "name", "args", "queue", "status", "attempt", "max_attempts",
                 "next_attempt_at", "lease_expires_at", "dispatched_at")  # fmt: skip
_RUN_FIELDS = list(Run._meta.concrete_fields)
_JSON_FIELDS = {f.name: f for f in _RUN_FIELDS if isinstance(f, JSONField)}


@contextmanager
def _pipeline() -> Iterator[tuple[Any, Any]]:
    """The psycopg connection in pipeline mode, and its pipeline (``sync()`` to read results)."""
    connection.ensure_connection()
    conn = connection.connection
    with connection.wrap_database_errors, conn.pipeline() as pipeline:
        yield conn, pipeline


@contextmanager
def _prepared_cursor() -> Iterator[Any]:
    """A server-side-binding cursor, which can run prepared statements (planned once per
    connection); Django's own cursors bind client-side and never prepare."""
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


@cache
def _lock_and_finish_sql() -> tuple[str, str]:
    columns = ", ".join(f'"{f.column}"' for f in _RUN_FIELDS)
    return (
        f'SELECT {columns} FROM "{Run._meta.db_table}" WHERE id = %s FOR UPDATE',
        f'UPDATE "{StepTask._meta.db_table}" SET status = %s, lease_expires_at = NULL '
        "WHERE id = %s AND status = %s AND attempt = %s",
    )


def lock_and_finish_step(run_id: str, step_id: int, attempt: int) -> tuple[Run, bool]:
    """Lock the run row and mark the step completed if ``attempt`` still owns it, in one round
    trip. Returns the locked run and whether the step was owned."""
    lock_sql, finish_sql = _lock_and_finish_sql()
    with _pipeline() as (conn, pipeline):
        lock = conn.execute(lock_sql, [run_id])
        finish = conn.execute(finish_sql, [StepStatus.COMPLETED.value, step_id,
                                           StepStatus.RUNNING.value, attempt])  # fmt: skip
        pipeline.sync()
        row = lock.fetchone()
        owned = finish.rowcount == 1
    assert row is not None, "a claimed step's run exists"
    values = [
        _JSON_FIELDS[field.name].from_db_value(value, None, connection)  # type: ignore[arg-type]
        if field.name in _JSON_FIELDS
        else value
        for field, value in zip(_RUN_FIELDS, row, strict=True)
    ]
    return Run.from_db(connection.alias, [f.attname for f in _RUN_FIELDS], values), owned


@cache
def _insert_sql(table: str, columns: tuple[str, ...], rows: int, returning: str) -> str:
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES {", ".join([placeholders] * rows)}'
    return sql + f" RETURNING {returning}" if returning else sql


@cache
def _update_run_sql(fields: tuple[str, ...]) -> str:
    assignments = ", ".join(f'"{Run._meta.get_field(name).column}" = %s' for name in fields)  # type: ignore[union-attr]
    return f'UPDATE "{Run._meta.db_table}" SET {assignments} WHERE id = %s'


def write(
    run_id: Any,
    events: Sequence[NewEvent],
    steps: Sequence[StepTask],
    run_fields: dict[str, Any],
) -> None:
    """Insert ``steps`` (setting their ids) and ``events`` and update the run row with
    ``run_fields``: one round trip."""
    with _pipeline() as (conn, pipeline):
        inserted = None
        if steps:
            params = [v for s in steps for v in (run_id, *_step_values(s))]
            sql = _insert_sql(StepTask._meta.db_table, _STEP_COLUMNS, len(steps), "id")
            inserted = conn.execute(sql, params)
        if events:
            params = [v for e in events for v in (run_id, *_event_values(e))]
            conn.execute(_insert_sql(HistoryEvent._meta.db_table, _EVENT_COLUMNS, len(events), ""),
                         params)  # fmt: skip
        names = tuple(run_fields)
        values = [Jsonb(v) if n in _JSON_FIELDS and v is not None else _plain(v)
                  for n, v in run_fields.items()]  # fmt: skip
        conn.execute(_update_run_sql(names), [*values, run_id])
        if inserted is not None:
            pipeline.sync()
            for step, (step_id,) in zip(steps, inserted.fetchall(), strict=True):
                step.pk = step_id
                step._state.adding = False


def _event_values(e: NewEvent) -> tuple[Any, ...]:
    return (e.seq, e.kind, e.cmd, e.attempt, Jsonb(e.data), e.actor, e.reason, e.dedupe_key,
            e.created_at)  # fmt: skip


def _step_values(step: StepTask) -> tuple[Any, ...]:
    return tuple(
        Jsonb(step.args) if column == "args" else _plain(getattr(step, column))
        for column in _STEP_COLUMNS[1:]
    )


def _plain(value: Any) -> Any:
    """Choices (enum members) as their stored value."""
    return value.value if isinstance(value, Enum) else value


# --- one statement for a finished step and what follows it -------------------------------------

_CASTS = {"run_id": "uuid", "seq": "integer", "kind": "varchar", "cmd": "integer",
          "attempt": "integer", "data": "jsonb", "actor": "varchar", "reason": "text",
          "dedupe_key": "varchar", "created_at": "timestamptz", "name": "varchar",
          "args": "jsonb", "queue": "varchar", "status": "varchar", "max_attempts": "integer",
          "next_attempt_at": "timestamptz", "lease_expires_at": "timestamptz",
          "dispatched_at": "timestamptz"}  # fmt: skip


@cache
def _typed_values(columns: tuple[str, ...], rows: int) -> str:
    row = "(" + ", ".join(f"%s::{_CASTS[c]}" for c in columns) + ")"
    return f"(VALUES {', '.join([row] * rows)}) AS v ({', '.join(columns)})"


@cache
def _finish_and_write_sql(events: int, steps: int, fields: tuple[str, ...], closing: bool) -> str:
    run_table, step_table = Run._meta.db_table, StepTask._meta.db_table
    event_table, timer_table = HistoryEvent._meta.db_table, Timer._meta.db_table
    parts = [
        f'locked AS (SELECT id FROM "{run_table}" WHERE id = %s AND last_seq = %s '
        "AND status IN ('running', 'waiting') FOR UPDATE)",
        f'finished AS (UPDATE "{step_table}" SET status = %s, lease_expires_at = NULL '
        "WHERE id = %s AND status = %s AND attempt = %s AND EXISTS (SELECT 1 FROM locked) "
        "RETURNING id)",
        f'events AS (INSERT INTO "{event_table}" ({", ".join(_EVENT_COLUMNS)}) SELECT v.* FROM '
        f"{_typed_values(_EVENT_COLUMNS, events)} WHERE EXISTS (SELECT 1 FROM finished))",
        f"run AS ({_update_run_sql(fields)} AND EXISTS (SELECT 1 FROM finished))",
    ]
    if closing:  # the run finishes: what is still queued, running or ticking for it stops
        parts += [
            f"abandoned AS (UPDATE \"{step_table}\" SET status = 'abandoned' WHERE run_id = %s "
            "AND status IN ('pending', 'running') AND id <> %s "
            "AND EXISTS (SELECT 1 FROM finished))",
            f'stopped AS (UPDATE "{timer_table}" SET fired = true WHERE run_id = %s '
            "AND NOT fired AND EXISTS (SELECT 1 FROM finished))",
        ]
    new_ids = "ARRAY[]::integer[]"
    if steps:
        parts.insert(2, f'new_steps AS (INSERT INTO "{step_table}" ({", ".join(_STEP_COLUMNS)}) '
                        f"SELECT v.* FROM {_typed_values(_STEP_COLUMNS, steps)} "
                        "WHERE EXISTS (SELECT 1 FROM finished) RETURNING id)")  # fmt: skip
        new_ids = "ARRAY(SELECT id FROM new_steps ORDER BY id)"
    return f"WITH {', '.join(parts)} SELECT (SELECT count(*) FROM finished), {new_ids}"


def finish_and_write(
    step_id: int,
    attempt: int,
    run_id: Any,
    seen: int,
    events: Sequence[NewEvent],
    steps: Sequence[StepTask],
    run_fields: dict[str, Any],
    *,
    closing: bool,
) -> bool:
    """One statement: if the run's newest event is still ``seen`` (under its row lock) and
    ``attempt`` still owns the step, mark the step completed, insert ``steps`` (setting their
    ids) and ``events``, and update the run row; when ``closing`` (the run finishes), abandon
    its other steps and stop its timers. False, with nothing written, otherwise."""
    sql = _finish_and_write_sql(len(events), len(steps), tuple(run_fields), closing)
    params: list[Any] = [run_id, seen, StepStatus.COMPLETED.value, step_id,
                         StepStatus.RUNNING.value, attempt]  # fmt: skip
    if steps:
        params += [v for s in steps for v in (run_id, *_step_values(s))]
    params += [v for e in events for v in (run_id, *_event_values(e))]
    params += [Jsonb(v) if n in _JSON_FIELDS and v is not None else _plain(v)
               for n, v in run_fields.items()]  # fmt: skip
    params.append(run_id)
    if closing:
        params += [run_id, step_id, run_id]
    with _prepared_cursor() as cursor:
        cursor.execute(sql, params, prepare=True)  # planning it costs more than running it
        finished, ids = cursor.fetchone()
    if finished != 1:
        return False
    for step, step_id_ in zip(steps, ids, strict=True):
        step.pk = step_id_
        step._state.adding = False
    return True
