"""Reads for pages and APIs. Nothing here writes."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import DateTimeField, ExpressionWrapper, F, Min, QuerySet, Value
from django.utils import timezone

from samples.models import (
    TERMINAL_STATES,
    Result,
    RunLink,
    Sample,
    SampleState,
)
from samples.roles import Role, has_role
from samples.values.codes import code_clean
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


def sample_runs(sample: Sample) -> list[RunInfo]:
    """Every workflow run of the sample, with its history, oldest first: its lifecycle, and
    the runs restarts from a step made of it (each repeats the history before that step)."""
    linked = RunLink.objects.filter(barcode=sample.barcode).values_list("run_id", flat=True)
    runs = []
    for run_id in linked:
        with contextlib.suppress(RunNotFound):
            runs.append(get_run(str(run_id)))
    return sorted(runs, key=lambda run: run.created_at)


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
