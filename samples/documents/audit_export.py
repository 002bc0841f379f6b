"""Exports of the audit trail: exactly the filtered entries, as CSV or JSON, streamed.

Entries are read from a server-side cursor and written a chunk at a time, so memory stays flat
whatever their number. Each export ends with a manifest: the row count, the time range, the
filter, and the SHA-256 of everything written before the manifest, so a reader can check the
file is complete and unchanged.

- CSV: UTF-8 with a BOM, ISO 8601 UTC times, cells that a spreadsheet would read as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) prefixed with ``'``.
  After the last entry, a blank line, then ``# manifest`` rows; the hash covers every byte
  before the blank line, the BOM included.
- JSON: ``{"entries":[...],"manifest":{...}}`` written compactly (``sort_keys``, no spaces);
  the hash covers every byte before ``,"manifest":``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from django.utils import timezone

from samples.selectors.audit import AuditEntry, AuditFilter, audit_entries
from samples.selectors.words import field_label, show

COLUMNS = [
    "time",
    "who",
    "what",
    "reason",
    "record",
    "name",
    "sample",
    "type",
    "event",
    "url",
    "changes",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CHUNK_BYTES = 64 * 1024
CSV_BATCH = 500  # entries written to the CSV at a time


def iso(moment: datetime | None) -> str:
    """``2026-05-04T09:30:00.000000Z``."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _plain(value: Any) -> Any:
    """JSON for a value: exact decimals as strings."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    """An entry as exported: the same fields in CSV and JSON."""
    return {
        "time": entry.stamp,
        "who": entry.who,
        "what": entry.what,
        "reason": entry.reason,
        "record": entry.record,
        "name": entry.name,
        "sample": entry.barcode,
        "type": entry.type,
        "event": entry.event,
        "url": entry.url,
        "changes": [
            {"field": field_label(c.field), "old": c.old, "new": c.new} for c in entry.changes
        ],
    }


def _csv_cells(entry: AuditEntry) -> list[str]:
    """An entry's cells, in the order of ``COLUMNS`` (the fields of ``entry_fields``, with the
    changes as text), each safe for a spreadsheet."""
    # The time, record, type and event are LabTrack's own words; the rest may hold anyone's.
    said = [
        entry.who,
        entry.what,
        entry.reason,
        entry.name,
        entry.barcode,
        entry.url,
        _changes_text(entry) if entry.changes else "",
    ]
    who, what, reason, name, barcode, url, changed = [
        f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell for cell in said
    ]
    return [entry.stamp, who, what, reason, entry.record, name, barcode, entry.type,
            entry.event, url, changed]  # fmt: skip


def _changes_text(entry: AuditEntry) -> str:
    if entry.type.endswith(".insert"):
        return "; ".join(f"{field_label(c.field)} = {show(c.new, c.field)}" for c in entry.changes)
    return "; ".join(
        f"{field_label(c.field)} {show(c.old, c.field)} → {show(c.new, c.field)}"
        for c in entry.changes
    )


class _Tally:
    """Counts and hashes what is written, and keeps the time range."""

    def __init__(self) -> None:
        self.rows = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.sha256 = hashlib.sha256()

    def see(self, entry: AuditEntry) -> None:
        self.rows += 1
        self.first = min(self.first or entry.at, entry.at)
        self.last = max(self.last or entry.at, entry.at)

    def see_all(self, entries: list[AuditEntry]) -> None:
        if entries:
            times = [entry.key.at for entry in entries]
            self.rows += len(entries)
            self.first = min(self.first or times[0], *times)
            self.last = max(self.last or times[0], *times)

    def manifest(self, chosen: AuditFilter, user: str) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "from": iso(self.first),
            "to": iso(self.last),
            "filter": chosen.as_dict(),
            "exported_at": iso(timezone.now()),
            "exported_by": user,
            "sha256": self.sha256.hexdigest(),
        }


def _chunks(pieces: Iterable[str], tally: _Tally) -> Iterator[bytes]:
    """Encode, hash and group the pieces into chunks of about ``CHUNK_BYTES``."""
    buffer, size = [], 0
    for piece in pieces:
        data = piece.encode()
        tally.sha256.update(data)
        buffer.append(data)
        size += len(data)
        if size >= CHUNK_BYTES:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def csv_export(chosen: AuditFilter, *, user: str = "") -> Iterator[bytes]:
    tally = _Tally()
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")

    def row(cells: Iterable[Any]) -> str:
        line.seek(0)
        line.truncate()
        writer.writerow([safe_cell(cell) for cell in cells])
        return line.getvalue()

    def body() -> Iterator[str]:
        yield "\ufeff" + row(COLUMNS)
        # Entries a batch at a time, each batch written by one call into one buffer.
        entries = audit_entries(chosen)
        buffer = io.StringIO()
        batch_writer = csv.writer(buffer, lineterminator="\r\n")
        while batch := list(islice(entries, CSV_BATCH)):
            tally.see_all(batch)
            buffer.seek(0)
            buffer.truncate()
            batch_writer.writerows(map(_csv_cells, batch))
            yield buffer.getvalue()

    yield from _chunks(body(), tally)
    manifest = tally.manifest(chosen, user)
    lines = ["\r\n", row(["# manifest"])]
    for name, value in manifest.items():
        if name == "filter":
            lines += [row([f"# filter {k}", v]) for k, v in value.items()]
        else:
            lines.append(row([f"# {name.replace('_', ' ')}", value]))
    yield "".join(lines).encode()


def json_export(chosen: AuditFilter, *, user: str = "") -> Iterator[bytes]:
    tally = _Tally()

    def dump(value: Any) -> str:
        return json.dumps(
            value, default=_plain, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )

    def body() -> Iterator[str]:
        yield '{"entries":['
        for entry in audit_entries(chosen):
            yield ("," if tally.rows else "") + dump(entry_fields(entry) | {"data": entry.data})
            tally.see(entry)
        yield "]"

    yield from _chunks(body(), tally)
    yield f',"manifest":{dump(tally.manifest(chosen, user))}}}'.encode()
