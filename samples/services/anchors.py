"""The audit trail's chain heads anchored outside the database, and the database checked
against the latest anchor.

``audit_check`` is the whole check of the trail (``manage.py audit verify``, the nightly
check): every hash chain, then the database against the latest anchor. ``anchor_make`` writes
the head of every hash chain (each workflow run's history, each record's events, the token
table) to a new signed file in ``AUDIT_ANCHOR_DIR``: one statement
per table, read through a server-side cursor in one consistent snapshot, so it stays fast and
flat in memory whatever the trail's size. ``anchor_verify`` checks the latest anchor's
signature first, then that every anchored head is still in the database with the hash it had:
a chain shorter than anchored lost its newest events, a head with another hash was rewritten,
a chain with no event left was deleted. Events added after the anchor change nothing.

What an anchor proves, and what not: docs/audit.md, "Anchors".
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from samples.documents.anchors import (
    PUBLIC_KEY_NAME,
    AnchorKeyMissing,
    AnchorRead,
    AnchorWriter,
    latest_anchor,
    signing_key,
)
from samples.models import ChainCheck
from samples.selectors.chains import (
    AUDIT_TABLES,
    AuditCheck,
    Finding,
    audit_verify,
    checks_joined,
    run_owners,
)
from samples.services.audit import chain_check_record
from samples.values.times import utc_text
from workflows.ops import history_heads, history_heads_check

log = logging.getLogger(__name__)

HISTORY = "history"
CHUNK = 5000
WHERE = "audit anchors"
HASH = re.compile(r"[0-9a-f]{64}")
HISTORY_SEQ, ROW_ID = 2**31 - 1, 2**63 - 1  # a history event's seq (integer), a row's id (bigint)

_HEADS = """
SELECT DISTINCT ON ({chain}) {chain}, pgh_id, pgh_hash, count(*) OVER (PARTITION BY {chain})
FROM {table}
ORDER BY {chain}, pgh_id DESC
"""
_TABLE_HEAD = """
SELECT NULL, pgh_id, pgh_hash, count(*) OVER () FROM {table} ORDER BY pgh_id DESC LIMIT 1
"""

# The anchored heads no longer found as they were, with the newest row each chain now has.
_CHANGED = """
SELECT m.obj, m.row, m.found,
       (SELECT max(x.pgh_id) FROM {table} AS x {same_chain})
FROM (
    SELECT a.obj, a.row, e.pgh_hash AS found
    FROM unnest(%s::bigint[], %s::bigint[], %s::text[]) AS a(obj, row, hash)
    LEFT JOIN {table} AS e ON e.pgh_id = a.row {join_chain}
    WHERE e.pgh_hash IS DISTINCT FROM a.hash
) AS m
ORDER BY m.obj
"""


def audit_check(*, trigger: str, user: Any = None) -> ChainCheck:
    """Check every chain, and the database against the latest anchor; keep the outcome."""
    check = checks_joined([audit_verify(), anchor_verify()])
    return chain_check_record(check, trigger=trigger, user=user)


def anchor_key(*, create: bool = False) -> Ed25519PrivateKey:
    """The anchors' private key (``AUDIT_ANCHOR_KEY_FILE``); made first only when ``create``
    is asked for and the settings allow it (the embedded default)."""
    return signing_key(
        Path(settings.AUDIT_ANCHOR_KEY_FILE),
        create=create and settings.AUDIT_ANCHOR_KEY_CREATE,
    )


def anchor_make() -> Path:
    """Write a new anchor of every chain head; its path."""
    key = anchor_key(create=True)
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # every table as of one moment (a caller's transaction already is)
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        writer = AnchorWriter(Path(settings.AUDIT_ANCHOR_DIR), key, timezone.now())
        try:
            for head in history_heads():
                writer.head(
                    chain=HISTORY,
                    id=head.run_id,
                    last=head.seq,
                    row=head.event_id,
                    hash=head.hash,
                    events=head.events,
                )
            for table in AUDIT_TABLES:
                for obj, row, digest, events in _table_heads(table):
                    writer.head(chain=table, id=obj, last=row, row=row, hash=digest, events=events)
        except BaseException:
            writer.abandon()
            raise
    path = writer.close()
    log.info("audit trail anchored: %d chains, %d events in %s", writer.chains, writer.events, path)
    return path


def _table_heads(table: str) -> Iterator[tuple[Any, int, str, int]]:
    chain = AUDIT_TABLES[table]
    sql = _HEADS.format(chain=chain, table=table) if chain else _TABLE_HEAD.format(table=table)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(CHUNK):
            yield from rows


def anchor_verify() -> AuditCheck:
    """Check the database against the latest anchor: its signature, then every head in it."""
    directory = Path(settings.AUDIT_ANCHOR_DIR)
    path = latest_anchor(directory)
    if path is None:
        if (directory / PUBLIC_KEY_NAME).exists():  # anchors were made here: all removed since
            return _found(f"no anchor is left in {directory}, beside the anchors' public key")
        return AuditCheck(0, 0, [])
    try:
        key = anchor_key()
    except AnchorKeyMissing as missing:
        return _found(f"the anchor {path.name} cannot be checked: {missing}")
    anchor = AnchorRead(path, key.public_key())
    findings = _compare(anchor)
    if anchor.problem:  # nothing an unsigned file says counts
        return _found(f"the anchor {path.name} cannot be trusted: {anchor.problem}")
    assert anchor.made_at is not None
    age = timezone.now() - anchor.made_at
    if age > timedelta(minutes=2 * settings.AUDIT_ANCHOR_MINUTES + 10):
        findings.append(
            Finding(
                WHERE,
                f"the latest anchor ({path.name}) is from {utc_text(anchor.made_at)}: anchors "
                "are not being made, or the newer ones were removed",
            )
        )
    return AuditCheck(0, 0, findings)


def _found(problem: str) -> AuditCheck:
    return AuditCheck(0, 0, [Finding(WHERE, problem)])


def _compare(anchor: AnchorRead) -> list[Finding]:
    """Every anchored head read from the file, compared a chunk at a time."""
    findings: list[Finding] = []
    pending: dict[str, list[tuple[Any, int, str]]] = {}
    for record in anchor.heads():
        chain, head = _head(record)
        if head is None:  # checked before the database sees it; the signature is checked last
            anchor.problem = f"it holds a head that is not one: {str(record)[:200]}"
            return []
        batch = pending.setdefault(chain, [])
        batch.append(head)
        if len(batch) >= CHUNK:
            findings += _compare_chunk(anchor, chain, batch)
            batch.clear()
    if anchor.problem:
        return []
    for chain, batch in pending.items():
        findings += _compare_chunk(anchor, chain, batch)
    return findings


def _head(record: dict[str, Any]) -> tuple[str, tuple[Any, Any, str] | None]:
    """A line of the anchor as (chain, (chain id, last, hash)); None for the head if malformed."""
    chain, chain_id, last, digest = (record.get(k) for k in ("chain", "id", "last", "hash"))
    if not (_whole(last, HISTORY_SEQ if chain == HISTORY else ROW_ID) and isinstance(digest, str)):
        return "", None
    if not HASH.fullmatch(digest):
        return "", None
    if chain == HISTORY:
        try:
            return HISTORY, (str(uuid.UUID(str(chain_id))), last, digest)
        except ValueError:
            return "", None
    if chain in AUDIT_TABLES and (
        _whole(chain_id, ROW_ID) if AUDIT_TABLES[chain] else chain_id is None
    ):
        return chain, (chain_id, last, digest)
    return "", None


def _whole(value: Any, limit: int) -> bool:
    """A whole number PostgreSQL's column holds (never a bool, never past the column's type)."""
    return type(value) is int and 0 < value <= limit


def _compare_chunk(
    anchor: AnchorRead, chain: str, heads: list[tuple[Any, int, str]]
) -> list[Finding]:
    when = utc_text(anchor.made_at, "seconds") if anchor.made_at else "at an unknown time"
    if chain == HISTORY:
        changes = history_heads_check(heads)
        owners = run_owners([c.run_id for c in changes])
        return [
            Finding(
                owners.get(c.run_id, f"run {c.run_id}"),
                _problem(c.problem, "event", c.seq, c.now_seq, when),
            )
            for c in changes
        ]
    column = AUDIT_TABLES[chain]
    sql = _CHANGED.format(
        table=chain,
        same_chain=f"WHERE x.{column} = m.obj" if column else "",
        join_chain=f"AND e.{column} = a.obj" if column else "",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [[h[0] for h in heads], [h[1] for h in heads], [h[2] for h in heads]])
        rows = cursor.fetchall()
    findings = []
    for obj, row, found, now_row in rows:
        if now_row is None:
            problem = "deleted"
        elif found is None and now_row < row:
            problem = "truncated"
        else:
            problem = "rewritten"
        where = f"{chain} record {obj}" if column else chain
        findings.append(Finding(where, _problem(problem, "row", row, now_row, when)))
    return findings


def _problem(kind: str, unit: str, anchored: int, now: int | None, when: str) -> str:
    if kind == "deleted":
        return f"chain deleted: anchored {when} up to {unit} {anchored}, no event is left"
    if kind == "truncated":
        return f"events deleted after {unit} {now} (anchored {when} up to {unit} {anchored})"
    return f"chain rewritten: {unit} {anchored} no longer holds the hash anchored {when}"
