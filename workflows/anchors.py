"""The heads of the workflow history's hash chains, for anchoring them outside the database.

A run's newest event carries a hash that commits to every event before it (each hash covers
its predecessor's). Kept somewhere the database cannot rewrite, the heads let a later check
tell events removed from a run's end, or a run's history rewritten whole (hashes recomputed),
from a history that merely grew. Where and how the heads are kept is the caller's business;
this module reads them (``history_heads``) and compares them with the history as it now is
(``history_heads_check``), a few statements whatever the number of runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db import connection

# The newest event of each run: one pass backwards over the (run, seq) index, no sort. A run's
# events are numbered 1, 2, ... with no gap (the chain trigger refuses any other), so the head's
# seq is how many events the run has.
_HEADS = """
SELECT DISTINCT ON (run_id) run_id, seq, id, hash
FROM workflows_historyevent
ORDER BY run_id DESC, seq DESC
"""

# The anchored heads no longer found as they were, with the newest event each run now has.
_CHANGED = """
SELECT m.run_id, m.seq, m.found,
       (SELECT max(x.seq) FROM workflows_historyevent AS x WHERE x.run_id = m.run_id)
FROM (
    SELECT a.run_id, a.seq, e.hash AS found
    FROM unnest(%s::uuid[], %s::int[], %s::text[]) AS a(run_id, seq, hash)
    LEFT JOIN workflows_historyevent AS e ON e.run_id = a.run_id AND e.seq = a.seq
    WHERE e.hash IS DISTINCT FROM a.hash
) AS m
ORDER BY m.run_id
"""

CHUNK = 5000


@dataclass(frozen=True)
class HistoryHead:
    """A run's newest event: its place in the run (``seq``), its row, its hash, and how many
    events the run's history holds."""

    run_id: str
    seq: int
    event_id: int
    hash: str
    events: int


@dataclass(frozen=True)
class HeadChange:
    """An anchored head that is no longer as anchored. ``problem``: ``deleted`` (the run has no
    event left), ``truncated`` (its history now ends at ``now_seq``, before the anchored
    event) or ``rewritten`` (the anchored event holds another hash, or is gone while later
    ones are there)."""

    run_id: str
    seq: int
    now_seq: int | None
    problem: str


def history_heads() -> Iterator[HistoryHead]:
    """Every run's head (the highest run id first), read a chunk at a time (call inside a
    transaction: the rows come from a server-side cursor)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(_HEADS)
        while rows := cursor.fetchmany(CHUNK):
            for run_id, seq, event_id, digest in rows:
                yield HistoryHead(str(run_id), seq, event_id, digest, seq)


def history_heads_check(heads: Sequence[tuple[str, int, str]]) -> list[HeadChange]:
    """Compare anchored heads (run id, seq, hash) with the history: each one whose event is
    gone or holds another hash. Events added after a head are no change."""
    changes: list[HeadChange] = []
    with connection.cursor() as cursor:
        for start in range(0, len(heads), CHUNK):
            chunk = heads[start : start + CHUNK]
            cursor.execute(
                _CHANGED,
                [[h[0] for h in chunk], [h[1] for h in chunk], [h[2] for h in chunk]],
            )
            for run_id, seq, found, now_seq in cursor.fetchall():
                if now_seq is None:
                    problem = "deleted"
                elif found is None and now_seq < seq:
                    problem = "truncated"
                else:
                    problem = "rewritten"
                changes.append(HeadChange(str(run_id), seq, now_seq, problem))
    return changes
