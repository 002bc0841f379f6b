"""The one vocabulary of LabTrack's records: every workflow history event (by its kind, its
step's name, its signal) and every change of a record said for a person, from small tables of
phrases, e.g. "Assay GLU changed by alex: reference high 5.6 → 6.0". Reads only.

Its readers: the audit trail (``samples.selectors.audit``) and through it the chain-of-custody
dossier, with ``describe(entry)``: the sentence and, where the record holds one, the reason;
the sample page's timeline (``samples.selectors.timeline``), with ``history_words`` (the same
sentence, the sample and who acted left out: "Received (condition acceptable)" where the trail
says "Sample S-000123 received by tess (condition acceptable)") and ``correction``; the runs
console, the trail's type filter and the dossier, with ``kind_name`` and ``BOOKKEEPING``.

Ids of users, instruments, assays and samples in changed fields are shown by name.
"""

from __future__ import annotations

import json
from decimal import Decimal
from functools import cache
from string import Formatter
from typing import Any

from django.contrib.auth import get_user_model

from samples.models import Assay, CallOutcome, Instrument, QcVerdict, ReceiptCondition, Sample
from samples.values.plates import well_name

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
    "destination": "Results destination",
    "outbound": "Outbound result message",
    "control_material": "Control material",
    "control_lot": "Control lot",
    "batch_control": "Control position",
    "control_result": "Control result",
    "qc_decision": "QC decision",
    "critical": "Critical value notification",
    "call": "Call about a critical value",
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
    # A corrected report (by the record's kind): a re-release after a correction.
    "report.insert corrected": "Corrected report {number} of {barcode} stored (SHA-256 {sha256})",
    "check.insert": "Audit trail checked{by} ({trigger}): {events} events in {chains} chains, "
    "intact: {intact}",
    "outbound.insert": "Result message {name} ({kind}) of {barcode} prepared (SHA-256 {sha256})",
    "outbound.update": "Result message {name} of {barcode} changed{by}",
    "critical.insert": "Critical value {assay} {value} {units} ({flag}) of {barcode}: "
    "notification opened",
    "critical.update": "Critical value notification of {barcode} ({assay}) changed{by}",
    "call.insert": "Call about the critical {assay} value of {barcode} to {called_name} "
    "({called_where}) at {called_at}: {outcome}, read back {read_back}{by}",
    "call.insert withdrawn": "No call needed about the critical {assay} value of {barcode}: "
    "corrected out of the critical range at {called_at}, before anyone was told it{by}",
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

# Lifecycle (workflow history) events, by kind (a kind first qualified by the record whose run
# it is), or by the signal's name (and action). ``{Owner}`` (at the start) and ``{of_owner}`` name
# the run's sample or batch, ``{by}`` who acted: a page of the sample's own leaves them out.
HISTORY_WORDS = {
    "sample run_started": "{Owner} registered{by} (lifecycle version {version})",
    # A sample's correction run (``samples.lifecycle.corrections``), by its workflow's name.
    "sample run_started sample_correction": "{Owner} corrected after release{by}: back to review",
    "batch run_started": "{Owner} opened{by}",
    "signal reception receive": "{Owner} received{by} (condition {condition})",
    "signal reception reject": "{Owner} rejected{by}",
    "signal batch": "{Owner} sent to the open batch{by}",
    "signal batched": "{Owner}: {signal_assay} batch {batch_id} closed, the sample at {place}",
    "signal result": "{signal_assay} result{of_owner} reported{by}",
    "signal review verify": "{Owner} verified and released{by}",
    "signal review retest": "{assay}{of_owner} sent back for a retest{by}",
    "signal run_started": "Run{of_owner} started{by}",
    "signal member_done": "{Owner}: the result of {barcode} is in{by}",
    # A supervisor's decision on a run rejected by QC (samples.services.qc_decisions).
    "signal qc_decision accept": "Run{of_owner} accepted by {printed_name} despite QC: {reason}",
    "signal qc_decision rerun": "Batch {batch_id} run again by {printed_name}: {reason}",
    # A control's result in (samples.services.controls), a critical value's call and its close
    # (samples.services.critical).
    "signal control": "{Owner}: control {signal_assay} in, {verdict}{by}",
    "signal call": "{Owner}: call recorded{by}, {outcome}",
    "signal critical": "{Owner}: critical value's notification closed{by}, {outcome}",
    "signal": "{Owner}: signal {signal_name} received{by}",
    "signal_consumed": "{Owner}: the lifecycle took signal {signal_seq}",
    "wait_started": "{Owner} waits for {signal}",
    # A sample's lifecycle waits for each signal until its stability window ends.
    "sample wait_timed_out": "{Owner}: stability window ended while waiting for {signal}",
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
    "run_restarted": "{Owner}: lifecycle restarted{by} from step {from_step} of run {from_run}",
    "run_superseded": "{Owner}: lifecycle superseded by run {by_run}, restarted{by} from step "
    "{from_step}",
    "run_completed": "{Owner}: lifecycle finished ({result})",
    "run_failed": "{Owner}: lifecycle failed: {message}",
    "run_cancelled": "{Owner}: cancelled",
}

# Steps done that say what happened, by the step's name (a step done without words here is the
# engine's bookkeeping: "step samples.mark done").
STEP_WORDS = {
    "samples.lifecycle_plan": "lifecycle planned",
    "samples.record_receipt": "receipt recorded",
    "samples.record_rejection": "rejection recorded",
    "samples.join_batch": "placed in the open batch",
    "samples.evaluate_result": "result evaluated",
    "samples.open_retest": "retest opened",
    "samples.review_critical": "critical result flagged for review",
    "samples.render_report": "report rendered",
    "samples.render_corrected_report": "corrected report {number} released, replaces report "
    "{replaces}",
    "samples.outbox_prepare": "results prepared for the ordering systems",
    "samples.outbox_send": "result message acknowledged",
    "samples.outbox_park": "result message parked for a person",
    # The step's result says it: "QC of the GLU run rejected: 2-2s on QC-GLU-1", "reminder
    # sent to the supervisors (kim)".
    "samples.qc_conclude": "{summary}",
    "samples.qc_remind": "{summary}",
    # "control result missing (QC-GLU-2): reminder sent to the supervisors (kim)"
    "samples.qc_control_remind": "{summary}",
}

# What an intervention from the runs console does, by its kind (``{action}`` above).
ACTIONS = {
    "retry": "retry of the failed step",
    "resume": "resuming after a fix",
    "cancel": "cancellation",
    "restart": "restart from step {step}",
}

# The engine's bookkeeping, which the lab's view of the trail and the dossier's PDF leave out.
BOOKKEEPING = "steps scheduled, started and done, waits, signals taken, timers, state marks"

# A correction of a result (``samples.selectors.corrections``), as the timeline and the report
# say it: "GLU corrected from 3.2 to 4.9 mmol/L, flag L → none".
CORRECTION = "{assay} corrected from {before} to {after} {units}, flag {flag_before} → {flag_after}"

# A critical value's notification and its calls (``samples.selectors.critical``), as the
# sample's timeline and the critical values page say them.
CRITICAL_WORDS = {
    "opened": "Critical value {reading}: notification opened",
    "again": "Critical value {reading}, corrected after the call ({reason}): notification "
    "opened to call it again",
    "call": "Call to {name}{where} at {time}: {outcome}",
    "withdrawn": "No call needed: the value was corrected out of the critical range at {time}, "
    "before anyone was told it",
    "escalated": "Escalated to the supervisors: no call recorded within {minutes} min",
    "reminded": "Reminded the supervisors ({times} times): still no call recorded",
    "closed": "Notification closed ({outcome})",
}


# The field of a record that holds the reason for its change.
REASON_FIELDS = {
    "result": "entry_reason",
    "retest": "reason",
    "inbox": "resolution_reason",
    "sample": "rejection_reason",
    "outbound": "resend_reason",
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
    """The audit trail entry's sentence, and the reason its record gives (or "")."""
    by = f" by {entry.who}" if entry.who else ""
    if entry.source == "lifecycle":
        owner = _owner(entry.record, entry.name, entry.extra.get("assay"))
        return history_words(entry.type, entry.data, record=entry.record, owner=owner, by=by), ""
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
    if record == "result" and entry.data.get("text") is not None:
        given["value"] = entry.data["text"]  # an answer of a qualitative assay
    phrase = (
        CHANGE_WORDS.get(f"{entry.type} {entry.data.get('kind')}")
        or CHANGE_WORDS.get(f"{entry.type} {entry.data.get('outcome')}")
        or CHANGE_WORDS.get(entry.type)
        or CHANGE_WORDS.get(label, "{Record} {name} {label}")
    )
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


def history_words(
    kind: str, data: dict[str, Any], *, record: str = "sample", owner: str = "", by: str = ""
) -> str:
    """A workflow history event (its ``kind`` and ``data``) in words. ``record`` is whose run it
    is ("sample", "batch" or "run"). The audit trail names the run's ``owner`` ("sample
    S-000123", "GLU batch 3") and who acted (``by``, " by tess"): "Sample S-000123 received by
    tess (condition acceptable)"; a page of the sample's own leaves both out (it shows who
    apart): "Received (condition acceptable)"."""
    given = data.get("payload")
    payload: dict[str, Any] = given if isinstance(given, dict) else {}
    words: dict[str, Any] = {
        "by": by,
        "owner": owner,
        "Owner": owner[:1].upper() + owner[1:],
        "of_owner": f" of {owner}" if owner else "",
    }
    key = kind
    if f"{record} {kind} {data.get('workflow')}" in HISTORY_WORDS:
        key = f"{record} {kind} {data.get('workflow')}"
    elif f"{record} {kind}" in HISTORY_WORDS:
        key = f"{record} {kind}"
    elif kind == "signal_received":
        name = str(data.get("name", ""))
        base, _, qualifier = name.partition(":")
        words.update(signal_name=name, signal_assay=qualifier)
        key = f"signal {base}"
        if payload.get("action"):
            key = f"{key} {payload['action']}"
        if key not in HISTORY_WORDS:
            key = f"signal {base}" if f"signal {base}" in HISTORY_WORDS else "signal"
        if base == "batched":
            words["place"] = _place(payload.get("position"))
        if base == "control":
            words["verdict"] = _choice(QcVerdict, payload.get("verdict"))
        if base in ("call", "critical"):
            words["outcome"] = _choice(CallOutcome, payload.get("outcome"))
    elif kind == "step_completed" and data.get("step") in STEP_WORDS:
        result = data.get("result")
        said = result if isinstance(result, dict) else {}
        return _sentence("{Owner}: " + STEP_WORDS[data["step"]], words, owner, said)
    if "condition" in payload:
        words["condition"] = _condition(payload["condition"])
    if kind.startswith("intervention_"):
        action = ACTIONS.get(str(data.get("action", "")), "intervention")
        words["action"] = action.format(step=show(data.get("step")))
    phrase = HISTORY_WORDS.get(key, "{Owner}: " + kind_name(kind))
    return _sentence(phrase, words, owner, payload, data)


def _choice(choices: Any, value: Any) -> str:
    """A choice's label as a sentence goes on ("in control"); a value it does not know, as
    given."""
    labels = dict(choices.choices)
    return str(labels.get(value, value)).lower() if value is not None else ""


def _sentence(phrase: str, words: dict[str, Any], owner: str, *sources: dict[str, Any]) -> str:
    """The phrase said; without an owner, its subject left out and the rest begun in capitals:
    "{Owner}: step {step} done" → "Step samples.mark done"."""
    if owner:
        return _say(phrase, words, *sources)
    text = _say(phrase.removeprefix("{Owner}").removeprefix(":").lstrip(), words, *sources)
    return text[:1].upper() + text[1:]


def step_said(step: str) -> bool:
    """Whether a step done says what happened (it has words in ``STEP_WORDS``)."""
    return step in STEP_WORDS


def kind_name(kind: str) -> str:
    """A history event's kind as its name reads: ``step_completed`` → "step completed" (the
    runs console, the trail's type filter)."""
    return kind.replace("_", " ")


def correction(
    *,
    assay: str,
    units: str,
    value_before: Decimal | str,
    value_after: Decimal | str,
    flag_before: str,
    flag_after: str,
) -> str:
    """A result's correction: "GLU corrected from 3.2 to 4.9 mmol/L, flag L → none"; an
    answer's (no units): "HIV corrected from Positive to Negative, flag A → none"."""
    return CORRECTION.format(
        assay=assay,
        units=units,
        before=_reading(value_before),
        after=_reading(value_after),
        flag_before=flag_before or "none",
        flag_after=flag_after or "none",
    ).replace(" ,", ",")


def _reading(value: Decimal | str) -> str:
    return value if isinstance(value, str) else format(value.normalize(), "f")


def _owner(record: str, name: str, assay: str | None) -> str:
    if record == "sample":
        return f"sample {name}"
    if record == "batch":
        return f"{assay} batch {name}" if assay else f"batch {name}"
    return f"run {name}"


def _place(position: Any) -> str:
    """A plate position as a well and its number: "well A7 (plate position 7)"."""
    if isinstance(position, int) and position >= 1:
        return f"well {well_name(position)} (plate position {position})"
    return f"plate position {show(position)}"


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
                "recorded_by",
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
        found = model._default_manager.filter(pk=pk).values_list(attribute, flat=True).first()
        if len(_names) > 10_000:
            _names.clear()
        _names[(field, pk)] = str(found) if found is not None else f"#{pk}"
    return _names[(field, pk)]
