"""Reading the audit trail as one list: the workflow histories of samples and batches and the
event tables of every other change and of sign-ins (``samples.tracking``), in time order, filtered
in the database. Who acted is decided by identity: an instrument is its service identity, never
a name that happens to match (``samples.actors``).

One SQL ``UNION ALL`` gives both sources a common set of columns; the filters are ``WHERE``
clauses PostgreSQL pushes into each source, so a page reads a hundred rows by keyset and an
export streams from a server-side cursor. For an event, the previous event of the same record
is read alongside it (old values of what changed). Who and why of a change are read from the
event's own copy of its context (``pgh_context_snapshot``, covered by its hash), and only for
an event written before events kept one, from its ``pghistory_context`` row. Nothing here
writes; the words are in ``samples.selectors.words``.

Two views: every entry (exports, reviews and ``?detail=all`` on the page), and the lab's view,
which leaves out the engine's bookkeeping (``folded``: a step scheduled, started or done, a
wait begun, a signal taken, a timer, a patch marker, a run's normal end, the signals and
lifecycle fields that repeat a record's own entry). The lab's view is the same statement with
``NOT folded``: its keyset pages follow each other as the full view's do. Failures, timeouts,
cancellations, interventions, restarts and every change made by a person stay in it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from pghistory.models import Context

from samples.actors import COMMAND_LINE, MINTED, minted_words
from samples.models import SampleEvent
from samples.selectors.read_ahead import chunks_read_ahead
from samples.selectors.words import describe, forget_names, kind_name
from samples.tracking import SignInKind
from samples.values.codes import code_clean
from workflows.ops import HISTORY_KINDS, history_sql

PAGE_SIZE = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Source:
    """An event table and how to name its record, its sample, and who made an inserted one."""

    record: str
    table: str
    name: str  # SQL naming the record (``e`` is the event row)
    labels: tuple[str, ...] = ("insert", "update", "delete")
    barcode: str = "NULL"
    joins: str = ""
    maker: str = "NULL"  # who made the record, for an insert made without a signed-in user
    maker_is_instrument: str = "false"
    extra: str = "'{{}}'::jsonb"  # what the words need that the row does not hold
    obj: str = "e.pgh_obj_id"
    folded: str = "false"  # SQL: the event repeats another entry (the lab's view leaves it out)
    context: str = "e.pgh_context_id"  # SQL: the event's context (who, from where, why)
    snapshot: str = "e.pgh_context_snapshot"  # SQL: the context as copied into the event
    actor: str = ""  # SQL naming who acted, where the context does not (sign-ins)
    title: str = ""  # the record type as the filter names it (default: the record's name)


# The engine's own events: each serves one that says what happened (the signal a person sent,
# the record a step wrote), which the lab's view shows in their place.
BOOKKEEPING_KINDS = (
    "step_scheduled",
    "step_started",
    "step_completed",
    "wait_started",
    "signal_consumed",
    "timer_started",
    "timer_fired",
    "patch_marker",
    "run_completed",
)

# The fields of a sample its lifecycle keeps (state, receipt, rejection, release, run): a change
# of these alone repeats the lifecycle's event (received, rejected, signed, ...) or marks its
# state; a correction (``correction`` in its context) is a person's act and stays.
LIFECYCLE_FIELDS = (
    "state",
    "state_changed_at",
    "run_id",
    "received_at",
    "received_by_id",
    "receipt_condition",
    "rejected_at",
    "rejected_by_id",
    "rejection_reason",
    "released_at",
)


def _sample_bookkeeping() -> str:
    ignored = ", ".join(
        f"'{name}'"
        for name in (
            *LIFECYCLE_FIELDS,
            *(f.column for f in SampleEvent._meta.concrete_fields if f.column.startswith("pgh_")),
        )
    )
    return f"""e.pgh_label = 'update' AND coalesce(c.metadata->>'correction', '') = ''
        AND (to_jsonb(e) - ARRAY[{ignored}]) = (
            SELECT to_jsonb(p) - ARRAY[{ignored}] FROM samples_sampleevent AS p
            WHERE p.pgh_obj_id = e.pgh_obj_id AND p.pgh_id < e.pgh_id
            ORDER BY p.pgh_id DESC LIMIT 1)"""


_SAMPLE_BOOKKEEPING = _sample_bookkeeping()

# Events that repeat a record's own entry: a review's verification (the signature's entry says
# who signed, when and what it means), a result reported to its sample's lifecycle and to its
# batch (the result's entry holds the value), a sample's lifecycle started (its registration).
_HISTORY_BOOKKEEPING = f"""h.kind IN ({", ".join(f"'{kind}'" for kind in BOOKKEEPING_KINDS)})
    OR (h.kind = 'signal_received' AND (
        (h.data::jsonb->>'name' = 'review' AND h.data::jsonb->'payload' ? 'signature_id')
        OR (starts_with(h.data::jsonb->>'name', 'result:')
            AND h.data::jsonb->'payload' ? 'result_id')
        OR h.data::jsonb->>'name' = 'member_done'))
    OR (h.kind = 'run_started' AND l.barcode IS NOT NULL)"""

# A batch's changes repeat its run's lifecycle (opened, closed, run started by whom, completed),
# except one that changes who started its run otherwise than by starting it.
_BATCH_BOOKKEEPING = """e.pgh_label = 'insert' OR (e.pgh_label = 'update' AND coalesce((
    SELECT p.started_by_id IS NOT DISTINCT FROM e.started_by_id
        OR (p.started_by_id IS NULL AND p.status <> 'running' AND e.status = 'running')
    FROM samples_batchevent AS p WHERE p.pgh_obj_id = e.pgh_obj_id AND p.pgh_id < e.pgh_id
    ORDER BY p.pgh_id DESC LIMIT 1), false))"""

SOURCES = [
    Source("assay", "samples_assayevent", "e.code"),
    Source("instrument", "samples_instrumentevent", "e.name"),
    Source(
        "sample",
        "samples_sampleevent",
        "e.barcode",
        barcode="e.barcode",
        joins="LEFT JOIN {user} AS m ON m.id = e.registered_by_id",
        maker="m.username",
        folded=_SAMPLE_BOOKKEEPING,
    ),
    Source(
        "result",
        "samples_resultevent",
        "ra.code || ' of ' || rs.barcode",
        barcode="rs.barcode",
        joins="JOIN samples_sample AS rs ON rs.id = e.sample_id "
        "JOIN samples_assay AS ra ON ra.id = e.assay_id "
        "LEFT JOIN samples_instrument AS ri ON ri.id = e.instrument_id "
        "LEFT JOIN {user} AS m ON m.id = e.entered_by_id",
        maker="coalesce(ri.name, m.username)",
        maker_is_instrument="ri.id IS NOT NULL",
        extra="jsonb_build_object('assay', ra.code)",
    ),
    Source(
        "inbox",
        "samples_unmatchedresultevent",
        "'entry ' || e.pgh_obj_id",
        barcode="e.barcode",
        joins="LEFT JOIN samples_instrument AS ui ON ui.id = e.instrument_id",
        maker="ui.name",
        maker_is_instrument="ui.id IS NOT NULL",
    ),
    Source(
        "retest",
        "samples_retestevent",
        "'of ' || ta.code || ' of ' || ts.barcode",
        barcode="ts.barcode",
        joins="JOIN samples_result AS tr ON tr.id = e.original_id "
        "JOIN samples_sample AS ts ON ts.id = tr.sample_id "
        "JOIN samples_assay AS ta ON ta.id = tr.assay_id "
        "LEFT JOIN {user} AS m ON m.id = e.requested_by_id",
        maker="m.username",
        extra="jsonb_build_object('assay', ta.code)",
    ),
    Source(
        "signature",
        "samples_signatureevent",
        "'of ' || gs.barcode",
        barcode="gs.barcode",
        joins="JOIN samples_sample AS gs ON gs.id = e.sample_id "
        "LEFT JOIN {user} AS m ON m.id = e.signer_id",
        maker="m.username",
    ),
    Source(
        "user",
        "samples_userevent",
        "e.username",
        labels=("insert", "update", "delete", "user.password"),
    ),
    Source(
        "role",
        "samples_roleevent",
        "ou.username || ': ' || og.name",
        labels=("role.add", "role.remove"),
        joins="LEFT JOIN {user} AS ou ON ou.id = e.user_id "
        "LEFT JOIN {group} AS og ON og.id = e.group_id",
        extra="jsonb_build_object('user', ou.username, 'group', og.name)",
    ),
    Source(
        "token",
        "samples_tokenevent",
        "e.token_key",
        labels=("token.create", "token.revoke"),
        joins="LEFT JOIN {user} AS ou ON ou.id = e.user_id",
        extra="jsonb_build_object('user', ou.username)",
        obj="NULL::bigint",
    ),
    Source(
        "review",
        "samples_auditreviewevent",
        "'of ' || e.entries || ' entries'",
        joins="LEFT JOIN {user} AS m ON m.id = e.reviewer_id",
        maker="m.username",
    ),
    # Sign-ins name the account (or, for a name no account has, the name typed): the person
    # whose sign-in it is.
    Source(
        "signin",
        "samples_signinevent",
        "coalesce(su.username, e.username)",
        labels=tuple(SignInKind.values),
        joins="LEFT JOIN {user} AS su ON su.id = e.user_id",
        extra="jsonb_build_object('user', coalesce(su.username, e.username))",
        obj="NULL::bigint",
        context="NULL::uuid",
        actor="coalesce(su.username, e.username)",
        title="Sign-in",
        snapshot="NULL::jsonb",
    ),
    Source(
        "batch",
        "samples_batchevent",
        "e.pgh_obj_id::text",
        joins="JOIN samples_assay AS bea ON bea.id = e.assay_id",
        extra="jsonb_build_object('assay', bea.code)",
        folded=_BATCH_BOOKKEEPING,
    ),
    # A message received, and its answer set: the results and inbox entries it made say it.
    Source(
        "message",
        "samples_instrumentmessageevent",
        "e.pgh_obj_id::text",
        joins="LEFT JOIN samples_instrument AS mi ON mi.id = e.instrument_id",
        maker="mi.name",
        maker_is_instrument="mi.id IS NOT NULL",
        folded="true",
    ),
    Source(
        "report",
        "samples_reportevent",
        "'of ' || rps.barcode",
        barcode="rps.barcode",
        joins="JOIN samples_sample AS rps ON rps.id = e.sample_id",
        folded="true",  # stored at release: the signature's entry says it
    ),
    Source(
        "destination",
        "samples_destinationevent",
        "e.name",
    ),
    # A critical value's notification (opened, escalated, closed) and each call about it.
    Source(
        "critical",
        "samples_criticalnotificationevent",
        "'of ' || cns.barcode",
        barcode="cns.barcode",
        joins="JOIN samples_sample AS cns ON cns.id = e.sample_id "
        "JOIN samples_result AS cnr ON cnr.id = e.result_id "
        "JOIN samples_assay AS cna ON cna.id = cnr.assay_id",
        # The value it is about: its own (the result's, for one opened before it was kept).
        extra="jsonb_build_object('assay', cna.code, 'value', COALESCE(e.value, cnr.value), "
        "'units', cnr.units, 'flag', COALESCE(NULLIF(e.flag, ''), cnr.interpretation))",
    ),
    Source(
        "call",
        "samples_criticalcallevent",
        "e.called_name",
        barcode="ccs.barcode",
        joins="JOIN samples_criticalnotification AS ccn ON ccn.id = e.notification_id "
        "JOIN samples_sample AS ccs ON ccs.id = ccn.sample_id "
        "JOIN samples_result AS ccr ON ccr.id = ccn.result_id "
        "JOIN samples_assay AS cca ON cca.id = ccr.assay_id "
        "LEFT JOIN {user} AS m ON m.id = e.recorded_by_id",
        maker="m.username",
        extra="jsonb_build_object('assay', cca.code)",
    ),
    # An ORU^R01 sent out: prepared, each attempt, its ACK, parked, re-sent (with the reason).
    Source(
        "outbound",
        "samples_outboundmessageevent",
        "e.control_id",
        barcode="obs.barcode",
        joins="JOIN samples_sample AS obs ON obs.id = e.sample_id "
        "LEFT JOIN {user} AS m ON m.id = e.resent_by_id",
        maker="m.username",
    ),
    # Quality control: its set-up, the controls' positions and results, supervisors' decisions.
    Source("control_material", "samples_controlmaterialevent", "e.name || ', level ' || e.level"),
    Source("control_lot", "samples_controllotevent", "e.code"),
    Source(
        "batch_control",
        "samples_batchcontrolevent",
        "bcl.code || ' in batch ' || e.batch_id",
        joins="JOIN samples_controllot AS bcl ON bcl.id = e.lot_id",
    ),
    Source(
        "control_result",
        "samples_controlresultevent",
        "crl.code",
        joins="JOIN samples_controllot AS crl ON crl.id = e.lot_id "
        "LEFT JOIN samples_instrument AS cri ON cri.id = e.instrument_id "
        "LEFT JOIN {user} AS m ON m.id = e.entered_by_id",
        maker="coalesce(cri.name, m.username)",
        maker_is_instrument="cri.id IS NOT NULL",
    ),
    Source(
        "qc_decision",
        "samples_qcdecisionevent",
        "'on batch ' || e.batch_id",
        joins="LEFT JOIN {user} AS m ON m.id = e.decided_by_id",
        maker="m.username",
    ),
    Source(
        "check",
        "samples_chaincheckevent",
        "e.pgh_obj_id::text",
        joins="LEFT JOIN {user} AS m ON m.id = e.checked_by_id",
        maker="m.username",
    ),
]

# Tokens minted for a person by someone else: the words in the history's actor after the
# person's username (``samples.actors``), and who minted it.
_MINTED_AT = f"strpos(h.actor, '{MINTED}')"
_MINTED_BY = rf"""coalesce(substring(h.actor from ' \(API token minted by (.*)\)$'),
                           '{COMMAND_LINE}')"""

_HISTORY = """
SELECT h.created_at AS at, 0 AS src, h.id::bigint AS id,
       (CASE WHEN l.barcode IS NOT NULL THEN 'sample' WHEN l.batch_id IS NOT NULL THEN 'batch'
             ELSE 'run' END)::text AS record,
       coalesce(l.barcode, l.batch_id::text, h.run_id::text)::text AS name, NULL::bigint AS obj,
       h.kind::text AS type, l.barcode::text AS barcode,
       coalesce(hi.name, hn.name, ha.name)::text AS actor,
       (hi.id IS NOT NULL OR hn.id IS NOT NULL) AS by_instrument, h.reason::text AS reason,
       ''::text AS url, ha.minted::text AS minted, h.data::jsonb AS data,
       jsonb_build_object('seq', h.seq, 'run', h.run_id, 'assay', ba.code) AS extra,
       coalesce(({folded}), false) AS folded
FROM ({history}) AS h
CROSS JOIN LATERAL (
    SELECT CASE WHEN {minted_at} > 0 THEN left(h.actor, {minted_at} - 1) ELSE h.actor END
               AS name,
           CASE WHEN {minted_at} > 0 THEN {minted_by} ELSE '' END AS minted
) AS ha
LEFT JOIN samples_runlink AS l ON l.run_id = h.run_id
LEFT JOIN samples_batch AS b ON b.id = l.batch_id
LEFT JOIN samples_assay AS ba ON ba.id = b.assay_id
-- An instrument by its identity: the account that acted is its service identity. Events
-- written before instruments acted as it name the instrument itself: such a name is read as
-- the instrument only when no account has it (a person's username is never an instrument's).
LEFT JOIN {user} AS hu ON hu.username = ha.name
LEFT JOIN samples_instrument AS hi ON hi.service_user_id = hu.id
LEFT JOIN samples_instrument AS hn ON hu.id IS NULL AND hn.name = ha.name
"""

_EVENTS = """
SELECT e.pgh_created_at AS at, {number} AS src, e.pgh_id::bigint AS id,
       '{record}'::text AS record, ({name})::text AS name, {obj} AS obj,
       (CASE WHEN strpos(e.pgh_label, '.') > 0 THEN e.pgh_label
             ELSE '{record}.' || e.pgh_label END)::text AS type,
       ({barcode})::text AS barcode, ({actor})::text AS actor, ({by_instrument}) AS by_instrument,
       coalesce(c.metadata->>'reason', '') AS reason, coalesce(c.metadata->>'url', '') AS url,
       coalesce(c.metadata->>'token_minted_by', '')::text AS minted,
       to_jsonb(e) AS data, {extra} AS extra, coalesce(({folded}), false) AS folded
FROM {table} AS e
LEFT JOIN {context} AS oc ON oc.id = {context_id} AND {snapshot} IS NULL
CROSS JOIN LATERAL (SELECT coalesce({snapshot}, oc.metadata) AS metadata) AS c
LEFT JOIN {user} AS cu ON cu.id = CASE WHEN jsonb_typeof(c.metadata->'user') = 'number'
                                       THEN (c.metadata->>'user')::integer END
LEFT JOIN samples_instrument AS ci ON ci.service_user_id = cu.id
{joins}
"""

# The event before each entry's, in its record's chain: the old values of what changed.
_PREVIOUS = """
(SELECT to_jsonb(p) AS row FROM {table} AS p
 WHERE x.src = {number} AND p.pgh_obj_id = x.obj AND p.pgh_id < x.id
 ORDER BY p.pgh_id DESC LIMIT 1)
"""

_COLUMNS = (
    "at, src, id, record, name, obj, type, barcode, actor, by_instrument, reason, url, minted"
)

# Who acted, for an event: the instrument or person of its context, else the record's maker.
_ACTOR = """coalesce(ci.name, cu.username, CASE WHEN e.pgh_label = 'insert' THEN {maker} END,
                     '')"""
_BY_INSTRUMENT = """(ci.id IS NOT NULL OR (cu.id IS NULL AND e.pgh_label = 'insert'
                                         AND coalesce({maker_is_instrument}, false)))"""


@cache
def _union() -> str:
    names = {
        "user": get_user_model()._meta.db_table,
        "group": "auth_group",
        "context": Context._meta.db_table,
    }
    parts = [
        _HISTORY.format(
            history=history_sql(),
            folded=_HISTORY_BOOKKEEPING,
            minted_at=_MINTED_AT,
            minted_by=_MINTED_BY,
            **names,
        )
    ]
    for number, source in enumerate(SOURCES, start=1):
        maker = source.maker.format(**names)
        parts.append(
            _EVENTS.format(
                number=number,
                record=source.record,
                table=source.table,
                name=source.name,
                obj=source.obj,
                barcode=source.barcode,
                actor=source.actor or _ACTOR.format(maker=maker),
                by_instrument="false"
                if source.actor
                else _BY_INSTRUMENT.format(maker_is_instrument=source.maker_is_instrument),
                context_id=source.context,
                snapshot=source.snapshot,
                extra=source.extra.format(),
                folded=source.folded,
                joins=source.joins.format(**names),
                **{k: v for k, v in names.items() if k != "group"},
            )
        )
    return "\nUNION ALL\n".join(parts)


@cache
def _previous() -> str:
    parts = [
        _PREVIOUS.format(table=source.table, number=number)
        for number, source in enumerate(SOURCES, start=1)
        if source.obj == "e.pgh_obj_id"
    ]
    return "\nUNION ALL\n".join(parts)


@dataclass(frozen=True)
class AuditFilter:
    """What to show: a sample (barcode), a user or instrument, an event type (a whole record
    type like ``assay``, or one type like ``assay.update``), a period of UTC days."""

    sample: str = ""
    user: str = ""
    type: str = ""
    since: date | None = None
    until: date | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = ["true"]
        params: list[Any] = []
        if self.sample:
            clauses.append("barcode = %s")
            params.append(code_clean(self.sample))
        if self.user:
            # A token minted for a person by someone else: the minter's entries too.
            clauses.append("(lower(actor) = lower(%s) OR lower(minted) = lower(%s))")
            params += [self.user.strip()] * 2
        if self.type:
            clauses.append("(type = %s OR starts_with(type, %s))")
            params += [self.type, f"{self.type}."]
        if self.since:
            clauses.append("at >= %s")
            params.append(datetime.combine(self.since, time(), UTC))
        if self.until:
            clauses.append("at < %s")
            params.append(datetime.combine(self.until + timedelta(days=1), time(), UTC))
        return " AND ".join(clauses), params

    @classmethod
    def from_dict(cls, chosen: dict[str, str]) -> AuditFilter:
        """The filter ``as_dict`` gave (kept with a job that exports it)."""
        since, until = chosen.get("from"), chosen.get("to")
        return cls(
            sample=chosen.get("sample", ""),
            user=chosen.get("user", ""),
            type=chosen.get("type", ""),
            since=date.fromisoformat(since) if since else None,
            until=date.fromisoformat(until) if until else None,
        )

    def as_dict(self) -> dict[str, str]:
        """The filter as chosen, for the export's manifest (empty: not filtered)."""
        return {
            "sample": code_clean(self.sample),
            "user": self.user.strip(),
            "type": self.type,
            "from": self.since.isoformat() if self.since else "",
            "to": self.until.isoformat() if self.until else "",
        }


class Key(NamedTuple):
    """An entry's place in the order: time, then source, then row."""

    at: datetime
    src: int
    id: int

    def token(self) -> str:
        return f"{(self.at - EPOCH) // timedelta(microseconds=1)}-{self.src}-{self.id}"

    def token_before(self) -> str:
        """The token of the place just before this entry: ``after`` it starts a page with it."""
        return Key(self.at, self.src, self.id - 1).token()

    @classmethod
    def parse(cls, token: str) -> Key | None:
        """The key ``token()`` wrote, or None for one edited by hand (not three numbers, a time
        or a row past what the database holds)."""
        if not token.isascii():
            return None
        try:
            micros, src, row = (int(part) for part in token.split("-"))
            if not (0 <= src < 2**31 and 0 <= row < 2**63):
                return None
            return cls(EPOCH + timedelta(microseconds=micros), src, row)
        except (ValueError, OverflowError):
            return None


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(slots=True)
class AuditEntry:
    """One entry, built once per row read (``what`` and the record's reason are filled in
    right after, from the entry itself) and not changed afterwards."""

    key: Key
    source: str  # "lifecycle" (a workflow history) or "change" (an event table)
    record: str  # sample, batch, assay, result, role, ...
    name: str  # the record: a barcode, an assay code, a username, ...
    type: str  # a history kind, or <record>.<label>
    barcode: str
    actor: str
    by_instrument: bool
    reason: str
    url: str
    data: dict[str, Any]
    extra: dict[str, Any]
    changes: list[Change] = field(default_factory=list)
    what: str = ""
    stamp: str = ""  # the time as exports write it, 2026-05-04T09:30:00.000000Z
    folded: bool = False  # bookkeeping: left out of the lab's view
    minted: str = ""  # who minted the API token a person acted with, if not that person

    @property
    def at(self) -> datetime:
        return self.key.at

    @property
    def who(self) -> str:
        if not self.actor:
            return ""
        who = f"instrument {self.actor}" if self.by_instrument else self.actor
        return f"{who} {minted_words(self.minted)}" if self.minted else who

    @property
    def event(self) -> str:
        """Where the entry is kept, named as ``audit verify`` names a broken one."""
        if self.source == "lifecycle":
            return f"{self.record} {self.name}, event {self.extra.get('seq')}"
        return f"{SOURCES[self.key.src - 1].table} row {self.key.id}"


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    newer: Key | None  # the page before (newer entries), if any
    older: Key | None  # the page after (older entries), if any


def _plain_plan(cursor: Any) -> None:
    """No JIT compilation for the statement to come (in this transaction): the union's cost
    estimate passes PostgreSQL's threshold from some ten thousand entries on, and compiling
    its many expressions takes seconds, far longer than running them."""
    cursor.execute("SET LOCAL jit = off")


# The entry's time as microseconds since 1970 (turned into a datetime in Python far faster
# than a timestamp's text is parsed) and as the exports write it, made by PostgreSQL.
_OUTER = ", ".join(
    ["(extract(epoch FROM x.at) * 1000000)::bigint AS at"]
    + [f"x.{column.strip()}" for column in _COLUMNS.split(",")[1:]]
    + ["x.data", "x.extra", "prev.row AS previous"]
    + ["""to_char(x.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS stamp"""]
    + ["x.folded"]
)


def _query(where: str, *, order: str, limit: bool) -> str:
    return (
        f"SELECT {_OUTER} FROM ("
        f"SELECT {_COLUMNS}, data, extra, folded FROM ({_union()}) AS entries WHERE {where} "
        f"ORDER BY at {order}, src {order}, id {order}{' LIMIT %s' if limit else ''}"
        f") AS x LEFT JOIN LATERAL ({_previous()}) AS prev ON true "
        f"ORDER BY x.at {order}, x.src {order}, x.id {order}"
    )


def _where(chosen: AuditFilter, lab: bool) -> tuple[str, list[Any]]:
    where, params = chosen.where()
    return (f"{where} AND NOT folded" if lab else where), params


def audit_page(
    chosen: AuditFilter,
    *,
    before: Key | None = None,
    after: Key | None = None,
    size: int = PAGE_SIZE,
    lab: bool = False,
) -> AuditPage:
    """A page of entries, newest first: the newest, those older than ``before``, or those
    just newer than ``after``; with ``lab``, the lab's view (no bookkeeping entry)."""
    forget_names()
    where, params = _where(chosen, lab)
    if after is not None:
        where, order = f"{where} AND (at, src, id) > (%s, %s, %s)", "ASC"
        params += [after.at, after.src, after.id]
    else:
        order = "DESC"
        if before is not None:
            where += " AND (at, src, id) < (%s, %s, %s)"
            params += [before.at, before.src, before.id]
    with transaction.atomic(), connection.cursor() as cursor:
        _plain_plan(cursor)
        cursor.execute(_query(where, order=order, limit=True), [*params, size + 1])
        rows = cursor.fetchall()
    more = len(rows) > size
    entries = [_entry(row) for row in rows[:size]]
    if after is not None:
        entries.reverse()
        return AuditPage(entries, entries[0].key if more else None, entries[-1].key)
    newer = entries[0].key if before is not None and entries else None
    return AuditPage(entries, newer, entries[-1].key if more else None)


def audit_entries(
    chosen: AuditFilter, *, chunk: int = 5000, lab: bool = False
) -> Iterator[AuditEntry]:
    """Every entry the filter selects (with ``lab``, those of the lab's view), oldest first,
    read from a server-side cursor a chunk at a time, the next chunk fetched while this one is
    worked on: memory stays flat however many there are."""
    forget_names()
    where, params = _where(chosen, lab)
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        with connection.cursor() as setting:
            _plain_plan(setting)
        cursor.execute(_query(where, order="ASC", limit=False), params)
        for rows in chunks_read_ahead(cursor.cursor, chunk):
            yield from map(_entry, rows)


def audit_count(chosen: AuditFilter, *, lab: bool = False) -> int:
    """How many entries the filter selects (with ``lab``, in the lab's view)."""
    where, params = _where(chosen, lab)
    with transaction.atomic(), connection.cursor() as cursor:
        _plain_plan(cursor)
        cursor.execute(f"SELECT count(*) FROM ({_union()}) AS entries WHERE {where}", params)
        return cursor.fetchone()[0]


_DECODER = json.JSONDecoder(parse_float=Decimal)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, dict | list):
        return value
    return _DECODER.raw_decode(value)[0]  # PostgreSQL's JSON text starts with no blank


_HIDDEN = {"id"}  # the record's own id: the entry names the record
# Fields an event table gained later: null in the events before, which is no change.
_KEPT_SINCE = {"is_superuser"}


def _entry(row: tuple[Any, ...]) -> AuditEntry:
    micros, src, row_id, record, name, _obj, type_, barcode, actor, by_instrument, reason, url = (
        row[:12]
    )
    minted, data, extra, previous, stamp, folded = row[12:18]
    data, extra = _json(data), _json(extra)
    previous = previous if previous is None else _json(previous)
    changes: list[Change] = []
    if src:
        data = {k: v for k, v in data.items() if not k.startswith("pgh_")}
        if type_.endswith(".update"):
            old = {k: v for k, v in (previous or {}).items() if not k.startswith("pgh_")}
            changes = [
                Change(k, old.get(k), v)
                for k, v in data.items()
                if k not in _HIDDEN
                and old.get(k) != v
                and not (k in _KEPT_SINCE and old.get(k) is None)
            ]
        elif type_.endswith(".insert"):
            changes = [
                Change(k, None, v)
                for k, v in data.items()
                if k not in _HIDDEN and v not in (None, "", [], {})
            ]
    entry = AuditEntry(
        key=Key(EPOCH + timedelta(microseconds=micros), src, row_id),
        source="change" if src else "lifecycle",
        record=record,
        name=name or "",
        type=type_,
        barcode=barcode or "",
        actor=actor or "",
        by_instrument=bool(by_instrument),
        reason=reason or "",
        url=url or "",
        data=data or {},
        extra=extra or {},
        changes=changes,
        stamp=stamp,
        folded=bool(folded),
        minted=minted or "",
    )
    entry.what, why = describe(entry)
    if not entry.reason:
        entry.reason = why
    return entry


def type_choices() -> list[tuple[str, str]]:
    """The event types the filter offers: each record's changes, then the lifecycle's kinds."""
    choices = []
    for source in SOURCES:
        title = source.title or source.record.title()
        choices.append((source.record, f"{title}: any change"))
        for label in source.labels:
            value = label if "." in label else f"{source.record}.{label}"
            choices.append((value, f"{title}: {value.split('.', 1)[1].replace('_', ' ')}"))
    choices += [(kind, f"Lifecycle: {kind_name(kind)}") for kind in HISTORY_KINDS]
    return choices
