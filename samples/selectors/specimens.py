"""Reads for pages and APIs. Nothing here writes."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import DateTimeField, ExpressionWrapper, F, Min, QuerySet, Value
from django.utils import timezone

from samples.models import (
    TERMINAL_STATES,
    Report,
    Result,
    RunLink,
    Sample,
    SampleState,
)
from samples.roles import Role, has_role
from samples.selectors.waits import run_words, waiting_by_run
from samples.values.codes import code_clean
from workflows.api import RunInfo, RunNotFound, get_run, wait_settled

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
    waiting_for: str  # what its lifecycle waits for, in the lab's words ("" once final)
    actions: list[Action]
    results: list[Result]


def sample_find(barcode: str) -> Sample | None:
    return Sample.objects.filter(barcode=code_clean(barcode)).first()


def sample_settled(sample: Sample, *, seconds: float) -> Sample:
    """The sample once its lifecycle has taken in what it was just sent and reached its next
    wait (its steps done, on a worker), or as it is after ``seconds`` if it has not by then. A
    bench action only signals the lifecycle, whose steps record the new state a moment later;
    waiting for them lets the answer show the state the action led to, the next action and
    what the lifecycle waits for now. The wait polls one row by its key every 20 ms."""
    if sample.run_id is not None and seconds > 0:
        wait_settled(str(sample.run_id), seconds=seconds)
    return Sample.objects.get(pk=sample.pk)


def sample_card(sample: Sample, user: Any) -> SampleCard:
    """What the scan station shows of a sample, with the actions this user may take now."""
    assays = sorted(sample.assays.all(), key=lambda a: a.code)
    stability = min((a.stability_hours for a in assays), default=24)
    now = timezone.now()
    age = (now - sample.collected_at).total_seconds() / 3600
    final = sample.state in TERMINAL_STATES
    waiting_for = ""
    if sample.run_id is not None and not final:
        with contextlib.suppress(RunNotFound):
            waiting_for = run_words(get_run(str(sample.run_id), history=False))
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


def sample_reports(sample: Sample) -> list[Report]:
    """Every report of the sample, the original first, each with the one replacing it (their
    PDFs left unread)."""
    return list(
        Report.objects.filter(sample=sample)
        .defer("pdf")
        .select_related("replaces", "replaced_by")
        .order_by("number")
    )


# --- batches ------------------------------------------------------------------------------------


# --- worklist -----------------------------------------------------------------------------------


OVERDUE_MARGIN = timedelta(hours=2)


def samples_waiting(samples: list[Sample]) -> dict[int, str]:
    """What each sample's lifecycle waits for, in the lab's words, by the sample's id: one
    query for the page (and one per kind of thing the waits name); "" for final samples."""
    run_ids = [str(s.run_id) for s in samples if s.run_id and s.state not in TERMINAL_STATES]
    words = waiting_by_run(run_ids)
    return {s.pk: words.get(str(s.run_id), "") for s in samples}


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
