"""Hand-written SQL for the writes every step makes, pipelined (psycopg pipeline mode) so that a
step costs a few round trips instead of one per statement, without the ORM's per-query cost.
Only ``workflows.store`` calls this; everything less frequent goes through the ORM.
"""

from __future__ import annotations

import json
import uuid
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

from workflows.models import HistoryEvent, Run, StepStatus, StepTask
from workflows.replay import Event


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
def _prepared_cursor(*, binary: bool = False) -> Iterator[Any]:
    """A server-side-binding cursor, which can run prepared statements (planned once per
    connection); Django's own cursors bind client-side and never prepare."""
    connection.ensure_connection()
    conn = connection.connection
    if conn.prepare_threshold is None:
        # Django turns preparing off (None) for its own cursors, which bind client-side and
        # could not prepare anyway; ``execute(..., prepare=True)`` needs it on. Nothing is
        # prepared unless asked for: the threshold is out of reach.
        conn.prepare_threshold = 2**31
    with connection.wrap_database_errors, psycopg.Cursor(conn) as cursor:
        if binary:
            cursor.format = psycopg.pq.Format.BINARY
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


_LOCK_RUNS = (
    "SELECT id, last_seq, status FROM workflows_run WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
)
_SEEN_KEYS = (
    "SELECT run_id, dedupe_key FROM workflows_historyevent "
    "WHERE run_id = ANY(%s) AND dedupe_key = ANY(%s)"
)


def lock_runs(
    run_ids: Sequence[uuid.UUID], dedupe_keys: Sequence[str]
) -> tuple[dict[str, tuple[int, str]], set[tuple[str, str]]]:
    """Lock the runs (in id order) and then read which of ``dedupe_keys`` they have recorded:
    one round trip. The second statement starts once the locks are held, so it sees what
    their previous holders committed. Returns each run's ``(last_seq, status)`` and the
    ``(run_id, dedupe_key)`` pairs found."""
    with _pipeline() as (conn, pipeline):
        locked = conn.execute(_LOCK_RUNS, [list(run_ids)])
        seen = conn.execute(_SEEN_KEYS, [list(run_ids), list(dedupe_keys)]) if dedupe_keys else None
        pipeline.sync()
        runs = {str(pk): (seq, status) for pk, seq, status in locked.fetchall()}
        found = {(str(r), k) for r, k in seen.fetchall()} if seen is not None else set()
    return runs, found


_WRITE_SIGNALS = """
WITH events AS (
    INSERT INTO workflows_historyevent (run_id, seq, kind, cmd, attempt, data, actor, reason,
                                        dedupe_key, created_at)
    SELECT e.run_id, e.seq, 'signal_received', NULL, NULL, e.data, e.actor, e.reason,
           e.dedupe_key, e.created_at
    FROM jsonb_to_recordset(%(events)s) AS e (
        run_id uuid, seq integer, data jsonb, actor varchar, reason text, dedupe_key varchar,
        created_at timestamptz)
)
UPDATE workflows_run AS r SET last_seq = u.last_seq, needs_advance = u.wake, updated_at = %(now)s
FROM jsonb_to_recordset(%(runs)s) AS u (id uuid, last_seq integer, wake boolean)
WHERE r.id = u.id
"""


def write_signals(
    events: Sequence[tuple[Any, NewEvent]], runs: dict[Any, tuple[int, bool]], now: datetime
) -> None:
    """Insert ``signal_received`` events of several runs (``(run_id, event)`` pairs) and store
    each run's new ``last_seq`` and whether it needs an advance: one statement."""
    rows = [
        {
            "run_id": str(run_id),
            "seq": e.seq,
            "data": e.data,
            "actor": e.actor,
            "reason": e.reason,
            "dedupe_key": e.dedupe_key,
            "created_at": e.created_at.isoformat(),
        }
        for run_id, e in events
    ]
    updates = [{"id": str(k), "last_seq": seq, "wake": wake} for k, (seq, wake) in runs.items()]
    with _prepared_cursor() as cursor:
        params = {"events": Jsonb(rows), "runs": Jsonb(updates), "now": now}
        cursor.execute(_WRITE_SIGNALS, params, prepare=True)


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


# --- what ends with an await, or with the run ----------------------------------------------------
# The one place that says it, for every path that ends work: an outcome recorded by the general
# path (``store.apply_outcome``) or by the statement below, and a run closed by a restart
# (``store.restart_run``). The steps of the awaits that end (every await, ``%(closing)s``, when
# the run ends; else those at the positions ``%(ended)s``) are abandoned: never attempted again,
# and the result of an attempt still running is not recorded. Their timers are stopped: never
# fired. ``%(step)s`` is a step the same statement completes (or NULL), which it leaves alone.


def _end_work_sql(go: str) -> str:
    """The two data-modifying CTEs that end the work, each writing only when ``go`` holds."""
    return f"""
abandoned AS (
    UPDATE workflows_steptask SET status = 'abandoned', lease_expires_at = NULL
    WHERE (%(closing)s OR cmd = ANY(%(ended)s::integer[])) AND run_id = %(run)s
      AND status IN ('pending', 'running') AND id IS DISTINCT FROM %(step)s
      AND {go}
), stopped AS (
    UPDATE workflows_timer SET fired = true
    WHERE (%(closing)s OR cmd = ANY(%(ended)s::integer[])) AND run_id = %(run)s AND NOT fired
      AND {go}
)"""


_END_WORK = f"WITH {_end_work_sql('true')}\nSELECT 1"


def end_work(run_id: Any, ended: Sequence[int] | None = None) -> None:
    """Abandon the steps and stop the timers of the run's awaits at the positions ``ended``,
    or of every await when ``ended`` is None (the run ends): one statement. The caller holds
    the run's row lock."""
    params = {"run": run_id, "closing": ended is None, "ended": list(ended or ()), "step": None}
    with _prepared_cursor() as cursor:
        cursor.execute(_END_WORK, params, prepare=True)


# --- one statement for a finished step and what follows it -------------------------------------
# One fixed text whatever the number of rows (they travel as JSON), so psycopg converts it once
# and PostgreSQL plans it once per connection.

_FINISH_AND_WRITE = (
    """
WITH locked AS (
    SELECT id FROM workflows_run
    WHERE id = %(run)s AND last_seq = %(seen)s AND status IN ('running', 'waiting')
    FOR UPDATE
), finished_step AS (
    UPDATE workflows_steptask SET status = 'completed', lease_expires_at = NULL
    WHERE id = %(step)s AND status = 'running' AND attempt = %(attempt)s
      AND EXISTS (SELECT 1 FROM locked)
    RETURNING id
), finished AS (  -- one row when the writes below may go ahead
    SELECT 1 FROM finished_step
    UNION ALL SELECT 1 FROM locked WHERE %(step)s::bigint IS NULL
), new_steps AS (
    INSERT INTO workflows_steptask (run_id, cmd, name, args, queue, status, attempt,
                                    max_attempts, next_attempt_at, lease_expires_at,
                                    dispatched_at)
    SELECT %(run)s, s.* FROM jsonb_to_recordset(%(steps)s) AS s (
        cmd integer, name varchar, args jsonb, queue varchar, status varchar, attempt integer,
        max_attempts integer, next_attempt_at timestamptz, lease_expires_at timestamptz,
        dispatched_at timestamptz)
    WHERE EXISTS (SELECT 1 FROM finished)
    RETURNING id, cmd
), new_timers AS (
    INSERT INTO workflows_timer (run_id, cmd, fire_at, fired)
    SELECT %(run)s, t.cmd, t.fire_at, false
    FROM jsonb_to_recordset(%(timers)s) AS t (cmd integer, fire_at timestamptz)
    WHERE EXISTS (SELECT 1 FROM finished)
), events AS (
    INSERT INTO workflows_historyevent (run_id, seq, kind, cmd, attempt, data, actor, reason,
                                        dedupe_key, created_at)
    SELECT %(run)s, e.* FROM jsonb_to_recordset(%(events)s) AS e (
        seq integer, kind varchar, cmd integer, attempt integer, data jsonb, actor varchar,
        reason text, dedupe_key varchar, created_at timestamptz)
    WHERE EXISTS (SELECT 1 FROM finished)
), run AS (
    UPDATE workflows_run SET last_seq = %(last_seq)s, updated_at = %(now)s,
        status = %(status)s, result = %(result)s, error = %(error)s,
        waiting_for = %(waiting_for)s, waits = %(waits)s, blocked_reason = '',
        needs_advance = false, lost_advances = 0,
        finished_at = CASE WHEN %(closing)s THEN %(now)s END
    WHERE id = %(run)s AND EXISTS (SELECT 1 FROM finished)
),"""
    + _end_work_sql("EXISTS (SELECT 1 FROM finished)")
    + """
SELECT (SELECT count(*) FROM finished), ARRAY(SELECT ARRAY[cmd, id] FROM new_steps)
"""
)


def finish_and_write(
    step_id: int | None,
    attempt: int | None,
    run_id: Any,
    seen: int,
    events: Sequence[NewEvent],
    steps: Sequence[StepTask],
    run_fields: dict[str, Any],
    ended: Sequence[int] = (),
    timers: Sequence[tuple[int, datetime]] = (),
) -> bool:
    """One statement: if the run's newest event is still ``seen`` (under its row lock) and
    ``attempt`` still owns step ``step_id`` (if one is given), mark that step completed, insert
    ``steps`` (setting their ids), ``events`` and ``timers`` (position, fire_at), and update the
    run row (an advance got through: advances lost before it no longer count); end the work
    of the awaits at ``ended``, or of every await when the run finishes (as ``end_work``).
    False, with nothing written, otherwise.

    ``run_fields`` are those ``store`` sets after an outcome (status, result, error, ...)."""
    status = _plain(run_fields["status"])
    params = {
        "run": run_id,
        "seen": seen,
        "step": step_id,
        "attempt": attempt,
        "steps": Jsonb([_step_json(s) for s in steps]),
        "events": Jsonb([_event_json(e) for e in events]),
        "last_seq": run_fields["last_seq"],
        "now": run_fields["updated_at"],
        "status": status,
        "result": _json_or_null(run_fields["result"]),
        "error": _json_or_null(run_fields["error"]),
        "waiting_for": run_fields["waiting_for"],
        "waits": Jsonb(run_fields["waits"]),
        "closing": run_fields["finished_at"] is not None,
        "ended": list(ended),
        "timers": Jsonb([{"cmd": cmd, "fire_at": at.isoformat()} for cmd, at in timers]),
    }
    with _prepared_cursor() as cursor:
        cursor.execute(_FINISH_AND_WRITE, params, prepare=True)  # planning costs more than running
        finished, ids = cursor.fetchone()
    if finished != 1:
        return False
    by_cmd = dict(ids)
    for step in steps:
        step.pk = by_cmd[step.cmd]
        step._state.adding = False
    return True


def _json_or_null(value: Any) -> Any:
    return None if value is None else Jsonb(value)


def _event_json(e: NewEvent) -> dict[str, Any]:
    return {"seq": e.seq, "kind": e.kind, "cmd": e.cmd, "attempt": e.attempt, "data": e.data,
            "actor": e.actor, "reason": e.reason, "dedupe_key": e.dedupe_key,
            "created_at": e.created_at.isoformat()}  # fmt: skip


def _step_json(step: StepTask) -> dict[str, Any]:
    return {
        "cmd": step.cmd, "name": step.name, "args": step.args, "queue": step.queue,
        "status": _plain(step.status), "attempt": step.attempt,
        "max_attempts": step.max_attempts,
        "next_attempt_at": step.next_attempt_at.isoformat(),
        "lease_expires_at": step.lease_expires_at and step.lease_expires_at.isoformat(),
        "dispatched_at": step.dispatched_at and step.dispatched_at.isoformat(),
    }  # fmt: skip


# --- reading a run without locking it, and creating one ----------------------------------------

_PEEK = """
SELECT r.id, r.workflow, r.version, r.args, r.status, r.last_seq,
       e.seqs, e.kinds, e.times, e.cmds, e.attempts, e.data
FROM workflows_run r LEFT JOIN LATERAL (
    SELECT array_agg(seq ORDER BY seq) AS seqs, array_agg(kind ORDER BY seq) AS kinds,
           array_agg(created_at ORDER BY seq) AS times, array_agg(cmd ORDER BY seq) AS cmds,
           array_agg(attempt ORDER BY seq) AS attempts, json_agg(data ORDER BY seq) AS data
    FROM workflows_historyevent
    WHERE run_id = r.id AND seq > %(after)s AND NOT (kind = ANY(%(skipped)s))
) e ON true
WHERE r.id = %(run)s
"""


def peek_run(run_id: Any, after: int, skipped: list[str]) -> tuple[Run, list[Event]] | None:
    """The run row and its events after ``after`` (but for ``skipped`` kinds), read in one
    round trip without a lock: the caller's writes must check that nothing changed since.
    Events come as one array per column, in binary: the cheapest form to read many."""
    with _prepared_cursor(binary=True) as cursor:
        cursor.execute(_PEEK, {"run": run_id, "after": after, "skipped": skipped}, prepare=True)
        row = cursor.fetchone()
    if row is None:
        return None
    pk, workflow, version, args, status, last_seq, *columns = row
    if isinstance(args, str):  # Django may have jsonb read as text, for its own decoding
        args = json.loads(args)
    run = Run(id=pk, workflow=workflow, version=version, args=args, status=status,
              last_seq=last_seq)  # fmt: skip
    if columns[0] is None:  # no events after ``after``
        return run, []
    return run, [Event(*values) for values in zip(*columns, strict=True)]


_CREATE_RUN = """
WITH new_run AS (
    INSERT INTO workflows_run (id, workflow, version, key, args, status, waiting_for,
                               blocked_reason, needs_advance, last_seq, created_at, updated_at)
    VALUES (%(run)s, %(workflow)s, %(version)s, %(key)s, %(args)s, 'running', '', '', true, 1,
            %(now)s, %(now)s)
    ON CONFLICT (workflow, key) WHERE key IS NOT NULL DO NOTHING
    RETURNING id
), started AS (
    INSERT INTO workflows_historyevent (run_id, seq, kind, data, actor, reason, created_at)
    SELECT id, 1, 'run_started', %(data)s, %(actor)s, '', %(now)s FROM new_run
)
SELECT count(*) FROM new_run
"""


def create_run(
    run_id: Any, workflow: str, version: int, key: str | None, args: list[Any],
    data: dict[str, Any], actor: str, now: datetime,
) -> bool:  # fmt: skip
    """Insert a run with its ``run_started`` event in one statement; False (and nothing
    written) when a run of ``workflow`` with ``key`` exists."""
    params = {"run": run_id, "workflow": workflow, "version": version, "key": key,
              "args": Jsonb(args), "data": Jsonb(data), "actor": actor, "now": now}  # fmt: skip
    with _prepared_cursor() as cursor:
        cursor.execute(_CREATE_RUN, params, prepare=True)
        (created,) = cursor.fetchone()
    return bool(created == 1)
