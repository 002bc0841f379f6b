"""Checking the workflow history's hash chains (migration 0003 builds them on insert).

Each run's events form a chain: an event stores its predecessor's hash and SHA-256 over its
own content with that hash. A changed event no longer matches its hash; a removed one leaves a
gap in the sequence (or a run whose last event is not its ``last_seq``); a rewritten one breaks
the link to the next. The check reads the whole table once, in the database, in run order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

_BROKEN = """
WITH checked AS (
    SELECT e.id, e.run_id, e.seq, e.hash, e.prev_hash,
           history_digest(e, e.prev_hash) AS digest,
           lag(e.hash) OVER chain AS previous_hash,
           lag(e.seq) OVER chain AS previous_seq
    FROM workflows_historyevent AS e
    {where}
    WINDOW chain AS (PARTITION BY e.run_id ORDER BY e.seq)
)
SELECT id, run_id, seq,
       CASE
           WHEN hash <> digest THEN 'its content does not match its hash'
           WHEN seq <> coalesce(previous_seq, 0) + 1 THEN
               format('event %%s before it is missing', coalesce(previous_seq, 0) + 1)
           WHEN prev_hash <> coalesce(previous_hash, repeat('0', 64)) THEN
               'it does not link to the event before it'
       END AS problem
FROM checked
WHERE hash <> digest
   OR seq <> coalesce(previous_seq, 0) + 1
   OR prev_hash <> coalesce(previous_hash, repeat('0', 64))
ORDER BY run_id, seq
"""

_TRUNCATED = """
SELECT r.id, r.last_seq, coalesce(max(e.seq), 0)
FROM workflows_run AS r LEFT JOIN workflows_historyevent AS e ON e.run_id = r.id
{where}
GROUP BY r.id HAVING coalesce(max(e.seq), 0) <> r.last_seq
ORDER BY r.id
"""


@dataclass(frozen=True)
class BrokenLink:
    """The first broken place of one run's chain."""

    run_id: str
    seq: int
    event_id: int | None
    problem: str


@dataclass(frozen=True)
class ChainReport:
    events: int
    runs: int
    broken: list[BrokenLink]

    @property
    def intact(self) -> bool:
        return not self.broken


SHARDS = tuple("0123456789abcdef")  # the first hex digit of a run's id: 16 even parts


def verify_history(run_ids: list[str] | None = None, *, shard: str | None = None) -> ChainReport:
    """Check every run's chain (or only those of ``run_ids``, or of the runs whose id begins
    with the hex digit ``shard``, one of ``SHARDS``: a sixteenth of the table, for a check done
    in parts); for each broken one, name its first broken event."""
    where, params = "", list[Any]()
    if run_ids is not None:
        where, params = "WHERE {} = ANY(%s::uuid[])", [[str(r) for r in run_ids]]
    elif shard is not None:
        if shard not in SHARDS:
            raise ValueError(f"a shard is one of {''.join(SHARDS)}, not {shard!r}")
        low = f"{shard}0000000-0000-0000-0000-000000000000"
        high = f"{shard}fffffff-ffff-ffff-ffff-ffffffffffff"
        where, params = "WHERE {} BETWEEN %s::uuid AND %s::uuid", [low, high]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(DISTINCT run_id) FROM workflows_historyevent "
            + where.format("run_id"),
            params,
        )
        events, runs = cursor.fetchone()
        cursor.execute(_BROKEN.format(where=where.format("e.run_id")), params)
        first: dict[str, BrokenLink] = {}
        for event_id, run_id, seq, problem in cursor.fetchall():
            first.setdefault(str(run_id), BrokenLink(str(run_id), seq, event_id, problem))
        cursor.execute(_TRUNCATED.format(where=where.format("r.id")), params)
        for run_id, last_seq, found in cursor.fetchall():
            if str(run_id) not in first:
                problem = f"the run has {last_seq} events, the history ends at {found}"
                first[str(run_id)] = BrokenLink(str(run_id), found + 1, None, problem)
    return ChainReport(events, runs, sorted(first.values(), key=lambda b: (b.run_id, b.seq)))
