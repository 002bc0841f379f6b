"""The audit trail's entries said for a person: one sentence each, from small tables of
phrases, e.g. "Assay GLU changed by alex: reference high 5.6 → 6.0".

``describe(entry)`` gives the sentence and, where the record holds one, the reason. Ids of
users, instruments, assays and samples in changed fields are shown by name.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from string import Formatter
from typing import Any

from django.contrib.auth import get_user_model

from samples.models import Assay, Instrument, ReceiptCondition, Sample

RECORDS = {
    "assay": "Assay",
    "instrument": "Instrument",
    "sample": "Sample",
    "result": "Result",
    "inbox": "Inbox entry",
    "retest": "Retest",
    "signature": "Signature",
    "user": "Account",
    "role": "Role",
    "token": "API token",
    "review": "Review of the audit trail",
    "signin": "Sign-in",
    "batch": "Batch",
    "message": "Instrument message",
    "report": "Report",
    "check": "Check of the audit trail",
}

# Changes of records, by type; a record's own phrase first, then the label's.
CHANGE_WORDS = {
    "result.insert": "Result {value} {units} for {assay} of {barcode} entered{by}",
    "sample.insert": "Sample {name} registered{by}",
    "retest.insert": "Retest of {assay} of {barcode} requested{by}",
    "signature.insert": "Results of {barcode} signed by {printed_name} ({meaning})",
    "inbox.insert": "Unmatched result {value} {units} for {assay_code} of {barcode} kept in "
    "the inbox{by}",
    "inbox.update": "Inbox entry for {assay_code} of {barcode} changed{by}",
    "user.insert": "Account {name} created{by}",
    "user.password": "Password of {name} changed{by}",
    "review.insert": "Audit trail reviewed{by}: {entries} entries, outcome {outcome}",
    "batch.insert": "{assay} batch {name} opened{by}",
    "batch.update": "{assay} batch {name} changed{by}",
    "message.insert": "Instrument message {name} received{by} ({kind}, SHA-256 {sha256})",
    "message.update": "Instrument message {name} answered (HTTP {status_code})",
    "report.insert": "Report of {barcode} stored (SHA-256 {sha256})",
    "check.insert": "Audit trail checked{by} ({trigger}): {events} events in {chains} chains, "
    "intact: {intact}",
    "insert": "{Record} {name} created{by}",
    "update": "{Record} {name} changed{by}",
    "delete": "{Record} {name} deleted{by}",
    "role.add": "{user} given the role {group}{by}",
    "role.remove": "{user} no longer has the role {group}{by}",
    "token.create": "API token {name} created for {user}{by}",
    "token.revoke": "API token {name} of {user} revoked{by}",
    "signin.success": "Signed in: {user}{from}",
    "signin.failure": "Sign-in failed for {user} ({reason}){from}",
    "signin.lockout": "{user} locked out after {failures} failed sign-ins{from}",
    "signin.signout": "Signed out: {user}{from}",
}

# Lifecycle (workflow history) events, by kind, or by the signal's name (and action).
HISTORY_WORDS = {
    "sample run_started": "Sample {name} registered{by} (lifecycle version {version})",
    "batch run_started": "{Owner} opened{by}",
    "signal reception receive": "{Owner} received{by} (condition {condition})",
    "signal reception reject": "{Owner} rejected{by}",
    "signal batch": "{Owner} sent to the open batch{by}",
    "signal batched": "{Owner} placed in {signal_assay} batch {batch_id} at position {position}",
    "signal result": "{signal_assay} result of {owner} reported{by}",
    "signal review verify": "{Owner} verified and released{by}",
    "signal review retest": "{assay} of {owner} sent back for a retest{by}",
    "signal run_started": "Run of {owner} started{by}",
    "signal member_done": "{Owner}: the result of {barcode} is in{by}",
    "signal": "{Owner}: signal {signal_name} received{by}",
    "signal_consumed": "{Owner}: the lifecycle took signal {signal_seq}",
    "wait_started": "{Owner} waits for {signal}",
    "wait_timed_out": "{Owner}: the wait for {signal} ended without it",
    "step_scheduled": "{Owner}: step {step} scheduled",
    "step_started": "{Owner}: step {step} started",
    "step_completed": "{Owner}: step {step} done",
    "step_failed": "{Owner}: step {step} failed: {message}",
    "timer_started": "{Owner}: timer set for {fire_at}",
    "timer_fired": "{Owner}: timer for {fire_at} fired",
    "patch_marker": "{Owner}: change {change_id} applies",
    "cancel_requested": "{Owner}: cancellation requested{by}",
    "cancel_delivered": "{Owner}: cancellation delivered",
    "retry_requested": "{Owner}: retry requested{by}",
    "resume_requested": "{Owner}: resumed after a fix{by}",
    "intervention_requested": "{Owner}: {action} requested{by}, for a second person to approve",
    "intervention_approved": "{Owner}: {action} approved{by}",
    "intervention_refused": "{Owner}: {action} refused{by}",
    "run_restarted": "{Owner}: restarted{by} from step {from_step} of run {from_run}",
    "run_superseded": "{Owner}: superseded{by} by run {by_run}, restarted from step {from_step}",
    "run_completed": "{Owner}: finished ({result})",
    "run_failed": "{Owner}: failed: {message}",
    "run_cancelled": "{Owner}: cancelled",
}

# The field of a record that holds the reason for its change.
REASON_FIELDS = {
    "result": "entry_reason",
    "retest": "reason",
    "inbox": "resolution_reason",
    "sample": "rejection_reason",
}


@cache
def _names_in(phrase: str) -> tuple[str, ...]:
    """The words a phrase names, ``{Owner}``, ``{value}``..."""
    return tuple(dict.fromkeys(name for _, name, _, _ in Formatter().parse(phrase) if name))


def _say(phrase: str, given: dict[str, Any], *sources: dict[str, Any]) -> str:
    """The phrase with its words: those given, else the values of ``sources`` (the first that
    holds the name) as a person reads them; else "?"."""
    words = {}
    for name in _names_in(phrase):
        if name in given:
            words[name] = given[name]
            continue
        for source in sources:
            if name in source:
                words[name] = show(source[name])
                break
        else:
            words[name] = "?"
    return phrase.format_map(words)


def describe(entry: Any) -> tuple[str, str]:
    """The entry's sentence, and the reason its record gives (or "")."""
    by = f" by {entry.who}" if entry.who else ""
    if entry.source == "lifecycle":
        return _history(entry, by), ""
    record = entry.record
    label = entry.type.split(".", 1)[1]
    given = {
        "by": by,
        "name": entry.name,
        "barcode": entry.barcode,
        "Record": RECORDS.get(record, record),
        "label": label,
        "from": f", from {entry.data['address']}" if entry.data.get("address") else "",
    }
    phrase = CHANGE_WORDS.get(entry.type) or CHANGE_WORDS.get(label, "{Record} {name} {label}")
    what = _say(phrase, given, entry.extra, entry.data)
    if label == "update":
        what += ": " + (changes(entry.changes) or "no field changed")
    reason_field = REASON_FIELDS.get(record, "")
    changed = {c.field for c in entry.changes}
    why = entry.data.get(reason_field) if reason_field in changed else ""
    return what, str(why or "")


def changes(found: list[Any]) -> str:
    """Changed fields, "reference high 5.6 → 6.0; name Glucose → Sugar"."""
    return "; ".join(
        f"{field_label(c.field)} {show(c.old, c.field)} → {show(c.new, c.field)}" for c in found
    )


def _history(entry: Any, by: str) -> str:
    data = entry.data
    payload = data.get("payload") if isinstance(data.get("payload"), dict) else {}
    owner = _owner(entry)
    words = {"by": by, "owner": owner, "Owner": owner[0].upper() + owner[1:], "name": entry.name}
    key = entry.type
    if entry.type == "run_started":
        key = f"{entry.record} run_started"
    elif entry.type == "signal_received":
        name = str(data.get("name", ""))
        base, _, qualifier = name.partition(":")
        words.update(signal_name=name, signal_assay=qualifier)
        key = f"signal {base}"
        if payload.get("action"):
            key = f"{key} {payload['action']}"
        if key not in HISTORY_WORDS:
            key = f"signal {base}" if f"signal {base}" in HISTORY_WORDS else "signal"
    if "condition" in payload:
        words["condition"] = _condition(payload["condition"])
    phrase = HISTORY_WORDS.get(key, "{Owner}: " + entry.type.replace("_", " "))
    return _say(phrase, words, payload, data)


def _owner(entry: Any) -> str:
    if entry.record == "sample":
        return f"sample {entry.name}"
    if entry.record == "batch":
        assay = entry.extra.get("assay")
        return f"{assay} batch {entry.name}" if assay else f"batch {entry.name}"
    return f"run {entry.name}"


_CONDITIONS = {choice.value: choice.label.lower() for choice in ReceiptCondition}


def _condition(value: str) -> str:
    return _CONDITIONS.get(value, value)


def field_label(name: str) -> str:
    """``reference_high`` → "reference high", ``received_by_id`` → "received by"."""
    return name.removesuffix("_id").replace("_", " ")


# Foreign keys shown by name: the field, and how to name the record it points to.
_NAMED = {
    "instrument_id": (Instrument, "name"),
    "assay_id": (Assay, "code"),
    "sample_id": (Sample, "barcode"),
    **dict.fromkeys(
        (
            f"{field}_id"
            for field in [
                "registered_by",
                "received_by",
                "rejected_by",
                "entered_by",
                "requested_by",
                "resolved_by",
                "signer",
                "user",
                "service_user",
                "started_by",
                "client",
                "checked_by",
            ]
        ),
        (None, "username"),
    ),
}
_names: dict[tuple[str, Any], str] = {}


def forget_names() -> None:
    """Names may change: each page or export looks them up afresh."""
    _names.clear()


def show(value: Any, field: str = "") -> str:
    """A value as a person reads it."""
    if value is None or value == "":
        return "(empty)"
    if field in _NAMED and isinstance(value, int):
        return _name(field, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def number(value: Decimal) -> str:
    """``5.6000`` → "5.6", ``6.0000`` → "6.0", ``96`` → "96"."""
    text = format(value.normalize(), "f")
    if "." not in text and value.as_tuple().exponent < 0:  # type: ignore[operator]
        text += ".0"
    return text


def _name(field: str, pk: int) -> str:
    if (field, pk) not in _names:
        model, attribute = _NAMED[field]
        model = model or get_user_model()
        found = model.objects.filter(pk=pk).values_list(attribute, flat=True).first()
        if len(_names) > 10_000:
            _names.clear()
        _names[(field, pk)] = str(found) if found is not None else f"#{pk}"
    return _names[(field, pk)]
