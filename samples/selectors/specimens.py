"""Reads for pages and APIs. Nothing here writes."""

from __future__ import annotations

import contextlib
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import dropwhile
from typing import Any

from django.db.models import DateTimeField, ExpressionWrapper, F, Min, QuerySet, Value
from django.utils import timezone

from samples.models import (
    TERMINAL_STATES,
    Instrument,
    Result,
    RunLink,
    Sample,
    SampleState,
)
from samples.roles import Role, has_role
from samples.selectors.corrections import result_corrections
from samples.values.codes import code_clean
from samples.values.plates import well_name
from workflows.api import RunInfo, RunNotFound, get_run

# --- samples at the bench -----------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str  # the URL name's last part: receive, reject, batch
    label: str
    key: str  # the access key (Alt+key in most browsers)
    needs: str = ""  # "condition" or "reason": what the form asks for


@dataclass(frozen=True)
class SampleCard:
    sample: Sample
    state_label: str
    final: bool
    assay_codes: list[str]
    age_hours: float
    stability_hours: int
    overdue: bool
    waiting_for: str
    actions: list[Action]
    results: list[Result]


def sample_find(barcode: str) -> Sample | None:
    return Sample.objects.filter(barcode=code_clean(barcode)).first()


def sample_moved_on(barcode: str, *, from_state: str, seconds: float) -> Sample:
    """The sample once its lifecycle has moved it out of ``from_state``, or as it is after
    ``seconds`` if it has not by then. A bench action only signals the lifecycle, whose step
    (on a worker) records the new state a moment later; waiting for it lets the answer show
    the state the action led to and the next action."""
    deadline = time.monotonic() + seconds
    while True:
        sample = Sample.objects.get(barcode=barcode)
        if sample.state != from_state or time.monotonic() >= deadline:
            return sample
        time.sleep(0.05)


def sample_card(sample: Sample, user: Any) -> SampleCard:
    """What the scan station shows of a sample, with the actions this user may take now."""
    assays = sorted(sample.assays.all(), key=lambda a: a.code)
    stability = min((a.stability_hours for a in assays), default=24)
    now = timezone.now()
    age = (now - sample.collected_at).total_seconds() / 3600
    final = sample.state in TERMINAL_STATES
    waiting_for = ""
    if sample.run_id is not None and not final:
        waiting_for = get_run(str(sample.run_id), history=False).waiting_for
    return SampleCard(
        sample=sample,
        state_label=sample.get_state_display(),
        final=final,
        assay_codes=[a.code for a in assays],
        age_hours=round(age, 1),
        stability_hours=stability,
        overdue=not final and age > stability,
        waiting_for=waiting_for,
        actions=_allowed_actions(sample, user),
        results=list(
            sample.results.select_related("assay", "instrument", "entered_by").order_by(
                "assay__code", "recorded_at"
            )
        ),
    )


def _allowed_actions(sample: Sample, user: Any) -> list[Action]:
    if not has_role(user, Role.TECHNICIAN):
        return []
    if sample.state == SampleState.REGISTERED:
        return [
            Action("receive", "Receive", "r", needs="condition"),
            Action("reject", "Reject", "x", needs="reason"),
        ]
    if sample.state in (SampleState.RECEIVED, SampleState.RETEST_PENDING):
        return [Action("batch", "Add to the open batch", "b")]
    return []


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    what: str
    who: str
    why: str


_STEP_WORDS = {
    "samples.lifecycle_plan": "Lifecycle planned",
    "samples.record_receipt": "Receipt recorded",
    "samples.record_rejection": "Rejection recorded",
    "samples.join_batch": "Placed in the open batch",
    "samples.evaluate_result": "Result evaluated",
    "samples.open_retest": "Retest opened",
    "samples.review_critical": "Critical result flagged for review",
    "samples.render_report": "Report rendered",
}


def sample_runs(sample: Sample) -> list[RunInfo]:
    """Every workflow run of the sample, with its history, oldest first: its lifecycle, and
    the runs restarts from a step made of it (each repeats the history before that step)."""
    linked = RunLink.objects.filter(barcode=sample.barcode).values_list("run_id", flat=True)
    runs = []
    for run_id in linked:
        with contextlib.suppress(RunNotFound):
            runs.append(get_run(str(run_id)))
    return sorted(runs, key=lambda run: run.created_at)


def sample_timeline(sample: Sample) -> list[TimelineEntry]:
    """Every event of the sample's lifecycle in words: what, who, when, why. After a restart
    from a step, the old run's events, then the new run's from its restart on (those before
    repeat the old run's). Corrections of its results (made outside the lifecycle) are placed
    among them by time, each with the value and flag before and after."""
    entries = []
    for index, run in enumerate(sample_runs(sample)):
        events = run.history
        if index:
            events = list(dropwhile(lambda e: e.kind != "run_restarted", events))
        for event in events:
            what = _describe(event.kind, event.data)
            if what:
                entries.append(TimelineEntry(event.at, what, event.actor, event.reason))
    # An instrument acts as its service identity: shown as the instrument.
    instruments = dict(
        Instrument.objects.filter(
            service_user__username__in={entry.who for entry in entries}
        ).values_list("service_user__username", "name")
    )
    entries = [
        replace(entry, who=f"instrument {instruments[entry.who]}")
        if entry.who in instruments
        else entry
        for entry in entries
    ]
    corrections = [
        TimelineEntry(c.at, c.words, c.who, c.reason) for c in result_corrections(sample)
    ]
    return list(heapq.merge(entries, corrections, key=lambda entry: entry.at))


_ACTIONS = {
    "retry": "Retry of the failed step",
    "resume": "Resuming after a fix",
    "cancel": "Cancellation",
    "restart": "Restart from step {step}",
}


def _action(data: dict[str, Any]) -> str:
    return _ACTIONS.get(data.get("action", ""), "Intervention").format(step=data.get("step"))


def _describe(kind: str, data: dict[str, Any]) -> str:
    if kind == "run_started":
        return f"Registered (lifecycle version {data.get('version')})"
    if kind == "signal_received":
        payload = data.get("payload") or {}
        name = data.get("name", "")
        if name == "reception":
            return "Received" if payload.get("action") == "receive" else "Rejected"
        if name == "batch":
            return "Sent to the open batch"
        if name.startswith("batched:"):
            assay, batch, position = (
                name.split(":", 1)[1],
                payload.get("batch_id"),
                payload.get("position"),
            )
            known = isinstance(position, int) and position >= 1
            well = f"well {well_name(position)}, " if known else ""
            return f"{assay} batch {batch} closed: {well}plate position {position}"
        if name.startswith("result:"):
            return f"{name.split(':', 1)[1]} result recorded"
        if name == "review":
            return (
                "Verified and released"
                if payload.get("action") == "verify"
                else (f"{payload.get('assay')} sent back for a retest")
            )
        return f"Signal {name}"
    if kind == "step_completed":
        if data.get("step") == "samples.mark":
            return ""
        return _STEP_WORDS.get(data.get("step", ""), "")
    words = _KIND_WORDS.get(kind)
    return words(data) if words is not None else ""


# The other history events worth a line, in words.
_KIND_WORDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "step_failed": lambda d: f"Step {d.get('step')} failed: {d.get('message')}",
    "wait_timed_out": lambda d: "Stability window ended",
    "run_completed": lambda d: f"Lifecycle finished: {d.get('result')}",
    "run_failed": lambda d: f"Lifecycle failed: {d.get('message')}",
    "cancel_requested": lambda d: "Cancellation requested",
    "intervention_requested": lambda d: f"{_action(d)} asked for, for a second person to approve",
    "intervention_approved": lambda d: f"{_action(d)} approved",
    "intervention_refused": lambda d: f"{_action(d)} refused",
    "retry_requested": lambda d: "Failed step retried",
    "resume_requested": lambda d: "Lifecycle resumed after a fix",
    "run_restarted": lambda d: f"Lifecycle restarted from step {d.get('from_step')}",
    "run_superseded": lambda d: "Lifecycle replaced by its restart",
}


# --- batches ------------------------------------------------------------------------------------


# --- worklist -----------------------------------------------------------------------------------


OVERDUE_MARGIN = timedelta(hours=2)


def sample_worklist(*, state: str = "", assay: str = "", overdue: bool = False) -> QuerySet[Sample]:
    """Samples, newest first, filtered; each annotated with its stability ``deadline``."""
    samples = Sample.objects.annotate(
        deadline=ExpressionWrapper(
            F("collected_at") + Value(timedelta(hours=1)) * Min("assays__stability_hours"),
            output_field=DateTimeField(),
        )
    ).prefetch_related("assays")
    if state:
        samples = samples.filter(state=state)
    if assay:
        samples = samples.filter(assays__code=assay)
    if overdue:  # not final, and its stability window ends within OVERDUE_MARGIN (or has)
        samples = samples.exclude(state__in=TERMINAL_STATES).filter(
            deadline__lt=timezone.now() + OVERDUE_MARGIN
        )
    return samples.order_by("-registered_at")
