"""Reads for pages and APIs. Nothing here writes."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import DateTimeField, ExpressionWrapper, F, Min, QuerySet, Value
from django.utils import timezone

from samples.models import (
    TERMINAL_STATES,
    Assay,
    Batch,
    BatchStatus,
    Instrument,
    Result,
    RunLink,
    Sample,
    SampleState,
)
from samples.roles import Role, has_role
from samples.values.plates import well_name
from workflows.api import RunInfo, RunNotFound, get_run


def assay_list() -> QuerySet[Assay]:
    return Assay.objects.filter(is_active=True)


@dataclass(frozen=True)
class InstrumentRow:
    name: str
    model: str
    serial: str
    is_active: bool
    assay_codes: list[str]


def instrument_list() -> list[InstrumentRow]:
    return [
        InstrumentRow(i.name, i.model, i.serial, i.is_active, [a.code for a in i.assays.all()])
        for i in Instrument.objects.prefetch_related("assays")
    ]


@dataclass(frozen=True)
class AccountRow:
    username: str
    full_name: str
    roles: list[Role]
    is_active: bool
    last_login: datetime | None
    date_joined: datetime


def account_list() -> list[AccountRow]:
    """People's accounts (instrument service identities are listed with the instruments)."""
    users = (
        get_user_model()
        .objects.exclude(groups__name=Role.INSTRUMENT.value)
        .prefetch_related("groups")
        .order_by("username")
    )
    rows = []
    for user in users:
        names = {group.name for group in user.groups.all()}
        rows.append(
            AccountRow(
                username=user.username,
                full_name=user.get_full_name(),
                roles=[role for role in Role if role.value in names],
                is_active=user.is_active,
                last_login=user.last_login,
                date_joined=user.date_joined,
            )
        )
    return rows


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
    return Sample.objects.filter(barcode=(barcode or "").strip().upper()).first()


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


@dataclass(frozen=True)
class PlateCell:
    position: int
    well: str  # "A1" to "H12" (samples/values/plates.py)
    barcode: str
    resulted: bool

    @property
    def status(self) -> str:
        """ "empty", "waiting" (a sample without its result yet) or "resulted"."""
        return "resulted" if self.resulted else "waiting" if self.barcode else "empty"


@dataclass(frozen=True)
class BatchView:
    batch: Batch
    cells: list[PlateCell]
    filled: int
    waiting: list[str]  # barcodes still without a result in this batch

    @property
    def closes_at(self) -> datetime:
        """When an open batch closes if it does not fill first."""
        return self.batch.opened_at + self.batch.assay.batch_close_after


def batch_board() -> list[BatchView]:
    """Batches not yet completed, oldest first, with their plate maps (wells A1 to H12)."""
    views = []
    batches = (
        Batch.objects.exclude(status=BatchStatus.COMPLETED)
        .select_related("assay", "instrument", "started_by")
        .order_by("assay__code", "opened_at")
    )
    for batch in batches:
        members = {m.position: m for m in batch.members.select_related("sample")}
        resulted = set(batch.results.values_list("sample_id", flat=True))
        cells = []
        for position in range(1, batch.capacity + 1):
            member = members.get(position)
            cells.append(
                PlateCell(
                    position,
                    well_name(position),
                    member.sample.barcode if member else "",
                    bool(member and member.sample_id in resulted),
                )
            )
        waiting = [m.sample.barcode for m in members.values() if m.sample_id not in resulted]
        views.append(BatchView(batch, cells, len(members), sorted(waiting)))
    return views


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
