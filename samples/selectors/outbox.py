"""What the outbox page shows: the result messages sent out, newest first, with how many are
in each status (``samples.services.outbox`` sends them)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from samples.models import OutboundMessage, OutboundStatus

PAGE = 200  # the newest messages shown for a status


def outbox_messages(status: str = "") -> QuerySet[OutboundMessage]:
    """The newest ``PAGE`` messages, of one status if ``status`` names one."""
    messages = OutboundMessage.objects.select_related("sample", "destination", "resent_by")
    if status:
        messages = messages.filter(status=status)
    return messages.defer("payload").order_by("-created_at", "-pk")[:PAGE]


def outbox_counts() -> dict[str, int]:
    """How many messages are in each status (every status named, 0 where none)."""
    counted = dict(OutboundMessage.objects.values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counted.get(status, 0) for status in OutboundStatus.values}
