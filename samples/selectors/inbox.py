"""The unmatched inbox as a list to read: its entries by status, instrument and time received,
each with the message it came from, its instrument and, once resolved, who resolved it. Writes
(matching, discarding) are ``samples.services.intake``'s."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.db.models import QuerySet

from samples.models import Instrument, UnmatchedResult


class InboxStatus(StrEnum):
    OPEN = "open"  # waiting for a person
    RESOLVED = "resolved"  # matched to a sample or discarded, with a reason
    ALL = "all"


def inbox_entries(
    *,
    status: InboxStatus = InboxStatus.OPEN,
    instrument: Instrument | None = None,
    since: datetime | None = None,
) -> QuerySet[UnmatchedResult]:
    """The inbox entries with ``status``, of ``instrument`` (any when None), received at or
    after ``since``; ordered oldest first, as a work queue is read."""
    entries = UnmatchedResult.objects.select_related("message", "instrument", "resolved_by")
    if status is InboxStatus.OPEN:
        entries = entries.filter(resolved_at__isnull=True)
    elif status is InboxStatus.RESOLVED:
        entries = entries.filter(resolved_at__isnull=False)
    if instrument is not None:
        entries = entries.filter(instrument=instrument)
    if since is not None:
        entries = entries.filter(received_at__gte=since)
    return entries.order_by("received_at", "id")
