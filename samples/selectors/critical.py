"""Critical values for people (reads only): the open ones, oldest first, with the time left
before their SLA ends or how long ago it did; a sample's notifications with their calls; their
lines on the sample's timeline; and the dashboard's counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from samples.models import (
    CLOSING_OUTCOMES,
    CallOutcome,
    CriticalCall,
    CriticalNotification,
    NotificationOutcome,
    Sample,
)
from samples.selectors.words import CRITICAL_WORDS, number
from samples.values.times import utc_text


def call_words(call: CriticalCall) -> str:
    """ "Call to Dr Ruiz (ward 5) at 14:02 UTC: confirmed, read back 1.8"."""
    if call.outcome == CallOutcome.WITHDRAWN:
        return CRITICAL_WORDS["withdrawn"].format(time=utc_text(call.called_at, "time"))
    outcome = str(call.outcome).replace("_", " ")
    if call.read_back is not None:
        outcome += f", read back {number(call.read_back)}"
    return CRITICAL_WORDS["call"].format(
        name=call.called_name,
        where=f" ({call.called_where})" if call.called_where else "",
        time=utc_text(call.called_at, "time"),
        outcome=outcome,
    )


@dataclass(frozen=True)
class CriticalItem:
    """A notification as a page shows it."""

    notification: CriticalNotification
    reading: str
    calls: list[CriticalCall]
    left: timedelta  # before the SLA ends; negative once it has
    closing: bool  # a closing call is recorded, its workflow not yet done with it

    @property
    def breached(self) -> bool:
        return self.left < timedelta(0)

    @property
    def left_words(self) -> str:
        minutes = int(abs(self.left).total_seconds() // 60)
        if self.breached:
            return f"SLA breached {minutes} min ago"
        return f"{minutes} min left"

    @property
    def barcode(self) -> str:
        return self.notification.sample.barcode


def _with_calls(notifications: QuerySet[CriticalNotification]) -> QuerySet[CriticalNotification]:
    return notifications.select_related("result__assay", "sample").prefetch_related(
        Prefetch("calls", queryset=CriticalCall.objects.select_related("recorded_by"))
    )


def _item(notification: CriticalNotification, now: datetime) -> CriticalItem:
    calls = list(notification.calls.all())
    return CriticalItem(
        notification=notification,
        reading=notification.reading,
        calls=calls,
        left=notification.due_at - now,
        closing=notification.closed_at is None
        and any(c.outcome in CLOSING_OUTCOMES for c in calls),
    )


def critical_open_list() -> list[CriticalItem]:
    """Every open notification, oldest first."""
    now = timezone.now()
    found = _with_calls(CriticalNotification.objects.filter(closed_at=None))
    return [_item(n, now) for n in found.order_by("opened_at", "pk")]


def critical_item(notification_id: int) -> CriticalItem | None:
    found = _with_calls(CriticalNotification.objects.filter(pk=notification_id)).first()
    return None if found is None else _item(found, timezone.now())


def sample_critical(sample: Sample) -> list[CriticalItem]:
    """The sample's notifications, open or closed, oldest first."""
    now = timezone.now()
    found = _with_calls(CriticalNotification.objects.filter(sample=sample))
    return [_item(n, now) for n in found.order_by("opened_at", "pk")]


def critical_unnotified(sample: Sample) -> bool:
    """Whether the sample has a critical value not yet notified (release waits)."""
    return CriticalNotification.objects.filter(sample=sample, closed_at=None).exists()


def critical_timeline(sample: Sample) -> list[tuple[datetime, str, str]]:
    """The sample's critical value lines: (when, what, who), in lab words."""
    lines: list[tuple[datetime, str, str]] = []
    for item in sample_critical(sample):
        n = item.notification
        opened = CRITICAL_WORDS["again" if n.number > 1 else "opened"]
        lines.append((n.opened_at, opened.format(reading=item.reading, reason=n.reason), ""))
        for call in item.calls:
            lines.append((call.recorded_at, call_words(call), call.recorded_by.get_username()))
        if n.escalated_at is not None:
            minutes = settings.CRITICAL_CALL_SLA_MINUTES
            lines.append((n.escalated_at, CRITICAL_WORDS["escalated"].format(minutes=minutes), ""))
            if n.escalations > 1:
                reminded = n.escalated_at + (n.escalations - 1) * (n.due_at - n.opened_at)
                words = CRITICAL_WORDS["reminded"].format(times=n.escalations - 1)
                lines.append((reminded, words, ""))
        if n.closed_at is not None:
            outcome = NotificationOutcome(n.outcome).label
            lines.append((n.closed_at, CRITICAL_WORDS["closed"].format(outcome=outcome), ""))
    return sorted(lines, key=lambda line: line[0])


@dataclass(frozen=True)
class CriticalCounts:
    """The dashboard's critical values: open now, and for a period those opened, closed within
    the SLA, closed after it (or open past it: breached)."""

    open_now: int
    breached_now: int
    opened: int
    in_time: int
    breached: int

    @property
    def share_in_time(self) -> str:
        closed = self.in_time + self.breached
        return f"{round(100 * self.in_time / closed)}%" if closed else "none closed"


def critical_counts(*, since: datetime) -> CriticalCounts:
    now = timezone.now()
    open_now = CriticalNotification.objects.filter(closed_at=None)
    period = CriticalNotification.objects.filter(opened_at__gte=since)
    return CriticalCounts(
        open_now=open_now.count(),
        breached_now=open_now.filter(due_at__lt=now).count(),
        opened=period.count(),
        in_time=period.filter(outcome=NotificationOutcome.IN_TIME).count(),
        breached=period.filter(outcome=NotificationOutcome.LATE).count()
        + period.filter(closed_at=None, due_at__lt=now).count(),
    )


def critical_breached(*, since: datetime) -> list[CriticalItem]:
    """The notifications of the period that breached their SLA (closed late, or still open
    past it), oldest first."""
    now = timezone.now()
    found = _with_calls(CriticalNotification.objects.filter(opened_at__gte=since)).filter(
        escalations__gt=0
    ) | _with_calls(
        CriticalNotification.objects.filter(opened_at__gte=since, closed_at=None, due_at__lt=now)
    )
    return [_item(n, now) for n in found.distinct().order_by("opened_at", "pk")]
