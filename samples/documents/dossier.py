"""A sample's chain-of-custody dossier, as JSON and as PDF: every lifecycle event with its
actor and reason, every change of its records (sample, results, retests, signatures) from the
audit trail, its signatures (still valid or not), the instrument messages its results came
from, its retests, and the check of the hash chains all of it belongs to.

Each event is said in the audit trail's words (``samples.selectors.words``, through
``samples.selectors.audit``): the JSON keeps every event, its technical fields beside its
sentence and whether the lab's view shows it; the PDF, for a person, reads the lab's view (the
engine's bookkeeping left out, and counted)."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from samples.documents.pdf import LabPdf
from samples.models import (
    InstrumentMessage,
    Report,
    Result,
    ResultEvent,
    Retest,
    RetestEvent,
    Sample,
    SampleEvent,
    SignatureEvent,
)
from samples.selectors.audit import SOURCES, AuditEntry, AuditFilter, audit_entries
from samples.selectors.chains import (
    MESSAGE_MISMATCH,
    REPORT_MISMATCH,
    audit_verify,
    content_checked,
)
from samples.selectors.signatures import signatures_checked
from samples.selectors.specimens import sample_runs
from samples.selectors.words import BOOKKEEPING, kind_name

# The audit tables of a sample's own records, and how to find its rows in each.
_RECORD_EVENTS = [
    ("samples_sampleevent", SampleEvent, "pgh_obj_id"),
    ("samples_resultevent", ResultEvent, "sample_id"),
    ("samples_retestevent", RetestEvent, "original__sample_id"),
    ("samples_signatureevent", SignatureEvent, "sample_id"),
]
_HIDDEN = {"pgh_id", "pgh_hash", "pgh_prev_hash", "pgh_context_id", "pgh_obj_id"}


def dossier(sample: Sample) -> dict[str, Any]:
    """Everything on record about the sample, in time order within each part."""
    results = list(sample.results.order_by("recorded_at"))
    runs = sample_runs(sample)
    history = [(run.id, event) for run in runs for event in run.history]
    changes, records = [], {}
    for table, model, link in _RECORD_EVENTS:
        if link == "original__sample_id":
            rows = model.objects.filter(pgh_obj__original__sample=sample)
        else:
            rows = model.objects.filter(**{link: sample.pk})
        rows = rows.select_related("pgh_context").order_by("pgh_id")
        records[table] = sorted({r.pgh_obj_id for r in rows})
        changes += [_change(table, row) for row in rows]
    check = audit_verify(runs=[run.id for run in runs], records=records)
    said = _said(sample)
    changes = [_words(item, said.get((item["record"], item.pop("event_id")))) for item in changes]
    message_ids = {r.message_id for r in results if r.message_id}
    messages = [
        _message(m) for m in InstrumentMessage.objects.filter(pk__in=message_ids).order_by("pk")
    ]
    reports = _reports(sample)
    findings = [{"where": f.where, "problem": f.problem} for f in check.findings]
    findings += [
        {"where": f"instrument message {m['id']}", "problem": MESSAGE_MISMATCH}
        for m in messages
        if not m["intact"]
    ]
    findings += [
        {"where": _report_where(r, sample.barcode), "problem": REPORT_MISMATCH}
        for r in reports
        if not r["intact"]
    ]
    return {
        "sample": {
            "barcode": sample.barcode,
            "specimen_type": sample.specimen_type,
            "subject_ref": sample.subject_ref,
            "collected_at": sample.collected_at,
            "received_at": sample.received_at,
            "receipt_condition": sample.receipt_condition,
            "state": sample.state,
        },
        "lifecycle": [
            _words(
                {
                    "run": run_id,
                    "seq": e.seq,
                    "at": e.at,
                    "kind": e.kind,
                    "actor": e.actor,
                    "reason": e.reason,
                    "data": e.data,
                },
                said.get(("run", str(run_id), e.seq)),
            )
            for run_id, e in history
        ],
        "changes": sorted(changes, key=lambda c: c["at"]),
        "signatures": [
            {
                "printed_name": s.printed_name,
                "meaning": s.meaning,
                "signed_at": s.signed_at,
                "content_sha256": s.content_sha256,
                "valid": valid,
            }
            for s, valid in signatures_checked(sample)
        ],
        "instrument_messages": messages,
        "report": reports[-1] if reports else None,  # the newest
        "reports": reports,
        "retests": [
            {
                "assay": r.original.assay.code,
                "reason": r.reason,
                "requested_at": r.requested_at,
                "original_result": r.original_id,
                "new_result": r.new_result_id,
            }
            for r in Retest.objects.filter(original__sample=sample).select_related(
                "original__assay"
            )
        ],
        "results": [_result(r) for r in results],
        "verification": {
            "intact": not findings,
            "events_checked": check.events,
            "chains_checked": check.chains,
            "findings": findings,
        },
        "generated_at": timezone.now(),
    }


def _said(sample: Sample) -> dict[tuple[Any, ...], AuditEntry]:
    """The sample's entries of the audit trail, by lifecycle event (run, seq) and by change
    (record, event row)."""
    said: dict[tuple[Any, ...], AuditEntry] = {}
    for entry in audit_entries(AuditFilter(sample=sample.barcode)):
        if entry.source == "lifecycle":
            said[("run", str(entry.extra.get("run")), entry.extra.get("seq"))] = entry
        else:
            table = SOURCES[entry.key.src - 1].table
            said[(_record(table), entry.key.id)] = entry
    return said


def _words(item: dict[str, Any], entry: AuditEntry | None) -> dict[str, Any]:
    """The event's sentence, who and why beside its technical fields, and whether the lab's
    view shows it (not the engine's bookkeeping)."""
    if entry is None:  # written after the trail was read
        return item | {"what": "", "who": "", "why": "", "lab_view": True}
    return item | {
        "what": entry.what,
        "who": entry.who,
        "why": entry.reason,
        "lab_view": not entry.folded,
    }


def _record(table: str) -> str:
    return table.removeprefix("samples_").removesuffix("event")


def _lab_lines(content: dict[str, Any]) -> tuple[list[str], int]:
    """The lab's view of the lifecycle and the changes, one line per event in time order
    (time, what, why), and how many bookkeeping events it leaves out."""
    events = sorted(content["lifecycle"] + content["changes"], key=lambda e: e["at"])
    shown = [e for e in events if e["lab_view"]]
    lines = [
        f"{_t(e['at'])}  {e['what'] or _technical(e)}" + (f"  ({e['why']})" if e["why"] else "")
        for e in shown
    ]
    return lines, len(events) - len(shown)


def _technical(event: dict[str, Any]) -> str:
    """An event the trail's words did not reach (written while the dossier was read)."""
    if "kind" in event:
        return f"{kind_name(event['kind'])} {event['actor']}".strip()
    return f"{event['record']} {event['change']}"


def _change(table: str, row: Any) -> dict[str, Any]:
    fields = {
        f.attname: getattr(row, f.attname)
        for f in row._meta.concrete_fields
        if f.attname not in _HIDDEN and not f.attname.startswith("pgh_")
    }
    # Who and why as kept in the event (covered by its hash); an event written before events
    # kept them has only its context row, which no hash covers.
    covered = row.pgh_context_snapshot is not None
    if covered:
        context = row.pgh_context_snapshot
    else:
        context = row.pgh_context.metadata if row.pgh_context_id else {}
    return {
        "at": row.pgh_created_at,
        "record": _record(table),
        "id": row.pgh_obj_id,
        "event_id": row.pgh_id,
        "change": row.pgh_label,
        "context": context,
        "context_in_hash": covered or not row.pgh_context_id,
        "values": fields,
    }


def _message(message: InstrumentMessage) -> dict[str, Any]:
    """A message as received: its bytes (base64) checked against the SHA-256 recorded when it
    was received (and held by its audit events), and its text for reading."""
    raw = bytes(message.raw)
    found, intact = content_checked(message, "raw")
    return {
        "id": message.pk,
        "kind": message.kind,
        "received_at": message.received_at,
        "content_type": message.content_type,
        "sha256": message.sha256,
        "sha256_of_stored_bytes": found,
        "intact": intact,
        "raw_base64": base64.b64encode(raw).decode(),
        "body": message.body,
    }


def _report_where(report: dict[str, Any], barcode: str) -> str:
    if report["number"] == 1:
        return f"report of sample {barcode}"
    return f"report {report['number']} of sample {barcode}"


def _reports(sample: Sample) -> list[dict[str, Any]]:
    """Every stored report, the original first, each checked against the SHA-256 recorded
    when it was stored; a corrected one names the report it replaces."""
    found_reports = []
    for report in Report.objects.filter(sample=sample).select_related("replaces"):
        found, intact = content_checked(report, "pdf")
        found_reports.append(
            {
                "number": report.number,
                "kind": report.kind,
                "replaces": report.replaces.number if report.replaces else None,
                "created_at": report.created_at,
                "sha256": report.sha256,
                "sha256_of_stored_pdf": found,
                "intact": intact,
            }
        )
    return found_reports


def _result(result: Result) -> dict[str, Any]:
    return {
        "id": result.pk,
        "assay": result.assay.code,
        "value": result.value,
        "answer": result.text,  # a qualitative assay's (then ``value`` is null)
        "units": result.units,
        "flags": result.flags,
        "source": result.instrument.name if result.instrument else "entered by hand",
        "measured_at": result.measured_at,
        "amended_at": result.amended_at,
        "amendment_reason": result.amendment_reason,
        "superseded_by": result.superseded_by_id,
    }


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def dossier_json(content: dict[str, Any]) -> bytes:
    """The dossier as JSON, with a manifest: the SHA-256 of the content it follows."""
    body = json.dumps(content, cls=DjangoJSONEncoder, sort_keys=True, ensure_ascii=False)
    manifest = {"sha256_of_dossier": _sha256(body), "format": "labtrack-dossier/1"}
    return json.dumps({"dossier": json.loads(body), "manifest": manifest}, indent=1).encode()


def dossier_pdf(content: dict[str, Any]) -> bytes:
    """The dossier for a person to read: one line per event."""
    pdf = LabPdf()
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    sample = content["sample"]
    pdf.paragraph(f"Chain of custody: {sample['barcode']}", height=7, size=15, bold=True)
    check = content["verification"]
    pdf.paragraph(
        "Hash chains and stored content: intact"
        if check["intact"]
        else "NOT INTACT: " + "; ".join(f"{f['where']}: {f['problem']}" for f in check["findings"]),
        height=7,
    )
    events, left_out = _lab_lines(content)
    pdf.paragraph("What happened", height=7, size=12, bold=True)
    pdf.paragraph(
        f"{left_out} entries of the engine's bookkeeping ({BOOKKEEPING}) are left out here; "
        "the JSON dossier and the audit trail hold every one.",
        height=5,
        size=8,
    )
    for line in events or ["(none)"]:
        pdf.paragraph(line, height=5, size=8)
    for title, lines in (
        (
            "Signatures",
            [
                f"{s['printed_name']}, {s['meaning']}, {_t(s['signed_at'])}: "
                + ("valid" if s["valid"] else "NO LONGER VALID")
                for s in content["signatures"]
            ],
        ),
        (
            "Instrument messages",
            [
                f"Message {m['id']} ({m['kind']}), received {_t(m['received_at'])}, "
                f"SHA-256 {m['sha256']}: "
                + (
                    "intact"
                    if m["intact"]
                    else "STORED BYTES DO NOT MATCH ITS RECORDED SHA-256 (they hash to "
                    f"{m['sha256_of_stored_bytes']}, or the hash recorded was changed)"
                )
                for m in content["instrument_messages"]
            ],
        ),
        ("Reports", _report_lines(content["reports"])),
        (
            "Retests",
            [f"{r['assay']}: {r['reason']} ({_t(r['requested_at'])})" for r in content["retests"]],
        ),
    ):
        pdf.paragraph(title, height=7, size=12, bold=True)
        for line in lines or ["(none)"]:
            pdf.paragraph(line, height=5, size=8)
    return bytes(pdf.output())


def _report_lines(reports: list[dict[str, Any]]) -> list[str]:
    lines = []
    for report in reports:
        name = f"Report {report['number']}"
        if report["replaces"]:
            name = f"Corrected report {report['number']} (replaces report {report['replaces']})"
        stored = f"{name}: stored {_t(report['created_at'])}, SHA-256 {report['sha256']}"
        if report["intact"]:
            lines.append(f"{stored}: intact")
        else:
            lines.append(
                f"{stored}: THE STORED PDF DOES NOT MATCH ITS RECORDED SHA-256 (it hashes to "
                f"{report['sha256_of_stored_pdf']})"
            )
    return lines


def _t(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
