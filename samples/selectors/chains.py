"""Checking the whole audit trail (reads only): the workflow histories (each sample's and batch's)
and the event tables of every other change (``samples.tracking``), each a set of hash chains; the
who and why kept with the events against their context rows; and the stored instrument messages and
report PDFs against the SHA-256 recorded when each was stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from samples.models import Batch, Sample
from samples.tracking import event_tables
from workflows.ops import verify_history

# Each event table of the trail (``samples.tracking.event_tables``), and the column whose value
# names a chain ("" for one chain per table).
AUDIT_TABLES = {t.table: t.chain for t in event_tables()}

_BROKEN = """
WITH checked AS (
    SELECT e.pgh_id, {chain} AS chain, e.pgh_hash, e.pgh_prev_hash,
           audit_digest(to_jsonb(e), e.pgh_prev_hash) AS digest,
           lag(e.pgh_hash) OVER ({partition} ORDER BY e.pgh_id) AS previous
    FROM {table} AS e
    {where}
)
SELECT pgh_id, chain,
       CASE WHEN pgh_hash <> digest THEN 'its content does not match its hash'
            ELSE 'it does not link to the event before it' END
FROM checked
WHERE pgh_hash <> digest OR pgh_prev_hash <> coalesce(previous, repeat('0', 64))
ORDER BY pgh_id
"""


# What is checked besides the chains: the context rows against the copies their events keep,
# instrument messages' bytes and report PDFs against their recorded SHA-256.
CONTENT_PARTS = ("contexts", "messages", "reports")

# The context rows whose who and why are none of those their events were written with, or that
# are gone (events written before events kept a copy are not compared: they have none).
_CONTEXTS_CHANGED = """
WITH kept AS ({kept})
SELECT kept.id, count(*), (array_agg(kept.written ORDER BY kept.written))[1:5]
FROM kept LEFT JOIN pghistory_context AS c ON c.id = kept.id
GROUP BY kept.id, c.metadata
HAVING NOT coalesce(bool_or(kept.snapshot = c.metadata), false)
ORDER BY 3
"""
# Event tables whose rows have no request context: a sign-in names its own person.
UNCONTEXTED = frozenset(t.table for t in event_tables() if not t.contexted)

_KEPT = """SELECT pgh_context_id AS id, pgh_context_snapshot AS snapshot,
       '{table} row ' || lpad(pgh_id::text, 12, '0') AS written
FROM {table} WHERE pgh_context_snapshot IS NOT NULL"""

MESSAGE_MISMATCH = "its stored bytes do not match its recorded SHA-256"
REPORT_MISMATCH = "its stored PDF does not match its recorded SHA-256"
UNCHAINED = "its recorded SHA-256 is not the one its audit events hold"

# Stored content against the SHA-256 recorded with it, and that against the one the newest
# audit event of the record holds (a rewrite of both content and hash is found so).
_CONTENT_CHECK = """
SELECT {name},
       CASE WHEN encode(sha256(r.{blob}), 'hex') <> r.sha256 THEN %s ELSE %s END
FROM {table} AS r {joins}
LEFT JOIN LATERAL (SELECT e.sha256 FROM {table}event AS e WHERE e.pgh_obj_id = r.id
                   ORDER BY e.pgh_id DESC LIMIT 1) AS chained ON true
WHERE encode(sha256(r.{blob}), 'hex') <> r.sha256 OR chained.sha256 IS DISTINCT FROM r.sha256
ORDER BY r.id
"""
_CONTENT = {
    "messages": (
        _CONTENT_CHECK.format(
            name="'instrument message ' || r.id",
            blob="raw",
            table="samples_instrumentmessage",
            joins="",
        ),
        MESSAGE_MISMATCH,
    ),
    "reports": (
        _CONTENT_CHECK.format(
            name="'report of sample ' || s.barcode",
            blob="pdf",
            table="samples_report",
            joins="JOIN samples_sample AS s ON s.id = r.sample_id",
        ),
        REPORT_MISMATCH,
    ),
}


def content_checked(record: Any, blob: str) -> tuple[str, bool]:
    """The SHA-256 of a message's or report's stored content (``blob``) now, and whether it
    is the one recorded with it and held by the record's newest audit event."""
    found = hashlib.sha256(bytes(getattr(record, blob))).hexdigest()
    chained = record.audit_events.order_by("-pgh_id").values_list("sha256", flat=True).first()
    return found, found == record.sha256 == chained


@dataclass(frozen=True)
class Finding:
    """The first broken place of one chain, said for a person."""

    where: str
    problem: str


@dataclass(frozen=True)
class AuditCheck:
    events: int
    chains: int
    findings: list[Finding]

    @property
    def intact(self) -> bool:
        return not self.findings


def audit_verify(
    *, runs: list[str] | None = None, records: dict[str, list[int]] | None = None
) -> AuditCheck:
    """Check every chain of the audit trail, or only those of the workflow ``runs`` and of the
    ``records`` (event table -> record ids); name the first broken event of each."""
    checks = [history_verify(runs=runs)]
    tables = AUDIT_TABLES if records is None else records
    checks += [table_verify(table, None if records is None else records[table]) for table in tables]
    if records is None and runs is None:
        checks += [content_verify(part) for part in CONTENT_PARTS]
    return checks_joined(checks)


def content_verify(part: str) -> AuditCheck:
    """One of ``CONTENT_PARTS``, in one statement (one pass over each table it reads): who and
    why of the events against their context rows, or messages or reports against their
    SHA-256. Each mismatch is a finding; no event or chain is counted."""
    if part == "contexts":
        kept = "\nUNION ALL\n".join(
            _KEPT.format(table=table) for table in AUDIT_TABLES if table not in UNCONTEXTED
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_CONTEXTS_CHANGED.format(kept=kept))
            findings = [
                Finding(
                    f"context {context}",
                    "its who and why were changed or removed after its events were written "
                    f"(they keep them as written): {', '.join(map(_unpadded, some))}"
                    + (f" and {events - len(some)} more" if events > len(some) else ""),
                )
                for context, events, some in cursor.fetchall()
            ]
        return AuditCheck(0, 0, findings)
    sql, problem = _CONTENT[part]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [problem, UNCHAINED])
        return AuditCheck(0, 0, [Finding(where, said) for where, said in cursor.fetchall()])


def _unpadded(written: str) -> str:
    table, row = written.rsplit(" ", 1)
    return f"{table} {int(row)}"


def history_verify(*, runs: list[str] | None = None, shard: str | None = None) -> AuditCheck:
    """The workflow histories' chains: all, those of ``runs``, or one of ``HISTORY_SHARDS``."""
    history = verify_history(runs, shard=shard)
    owners = run_owners([b.run_id for b in history.broken])
    findings = [
        Finding(
            f"{owners.get(b.run_id, f'run {b.run_id}')}, event {b.seq}"
            + (f" (row {b.event_id})" if b.event_id else ""),
            b.problem,
        )
        for b in history.broken
    ]
    return AuditCheck(history.events, history.runs, findings)


def table_verify(table: str, ids: list[int] | None = None) -> AuditCheck:
    """The chains of one event table of ``AUDIT_TABLES`` (or only of the records ``ids``)."""
    chain = AUDIT_TABLES[table]
    where, params = "", []
    if ids is not None:
        where, params = "WHERE e.pgh_obj_id = ANY(%s)", [ids]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")  # the times of the canonical JSON
        cursor.execute(
            f"SELECT count(*), count(DISTINCT {chain or '1'}) FROM {table} AS e {where}", params
        )
        events, chains = cursor.fetchone()
        partition = f"PARTITION BY e.{chain}" if chain else ""
        key = f"e.{chain}" if chain else "0"
        cursor.execute(
            _BROKEN.format(chain=key, partition=partition, table=table, where=where), params
        )
        first: dict[object, Finding] = {}
        for event_id, key, problem in cursor.fetchall():
            first.setdefault(key, Finding(f"{table} row {event_id}", problem))
    return AuditCheck(events, chains, list(first.values()))


def checks_joined(checks: list[AuditCheck]) -> AuditCheck:
    """Checks of separate chains, as one."""
    return AuditCheck(
        sum(c.events for c in checks),
        sum(c.chains for c in checks),
        [finding for c in checks for finding in c.findings],
    )


def run_owners(run_ids: list[str]) -> dict[str, str]:
    """What each workflow run is the history of: a sample (its barcode) or a batch."""
    samples = Sample.objects.filter(run_id__in=run_ids).values_list("barcode", "run_id")
    batches = Batch.objects.filter(run_id__in=run_ids).values_list("pk", "run_id")
    owners = {str(run): f"sample {barcode}" for barcode, run in samples}
    return owners | {str(run): f"batch {pk}" for pk, run in batches}
