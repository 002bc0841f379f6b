"""Instrument messages a person should see: those not taken (rejected as a whole, or carrying a
control id used before with other content), newest first."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from samples.models import InstrumentMessage

# How far back the inbox page lists messages not taken.
NOT_TAKEN_DAYS = 30


def messages_not_taken(days: int = NOT_TAKEN_DAYS) -> QuerySet[InstrumentMessage]:
    """Messages of the last ``days`` days that recorded nothing because they were refused
    (status 400 or more), each with what it was answered (``answer["detail"]``)."""
    since = timezone.now() - timedelta(days=days)
    return (
        InstrumentMessage.objects.filter(received_at__gte=since)
        .filter(Q(status_code__gte=400) | Q(conflicts_with__isnull=False))
        .select_related("instrument", "conflicts_with")
        .defer("raw", "body")
        .order_by("-received_at")
    )
