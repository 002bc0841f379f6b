"""``GET /api/v1/inbox/``: the unmatched inbox for middleware dashboards, read through
``samples.selectors.inbox``. People of the lab (technician, reviewer, compliance officer) see
every instrument's entries; an instrument's token sees its own only. Matching and discarding
stay on the inbox page, where a person gives the reason."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied, ValidationError

from samples.api.permissions import STAFF, roles_allowed
from samples.api.samples import TimeCursor, filter_moment
from samples.api.serializers import InboxEntrySerializer
from samples.models import Instrument, UnmatchedResult
from samples.roles import Role, has_role
from samples.selectors.inbox import InboxStatus, inbox_entries


class OldestFirst(TimeCursor):
    ordering = ("received_at", "id")
    page_size = 100


@extend_schema_view(
    get=extend_schema(
        operation_id="inbox_list",
        parameters=[
            OpenApiParameter(
                "status",
                str,
                enum=[s.value for s in InboxStatus],
                description="`open` (the default): waiting for a person; `resolved`: matched "
                "or discarded; `all`.",
            ),
            OpenApiParameter(
                "instrument",
                str,
                description="Only this instrument's entries (its name, e.g. `Cobas-1`). An "
                "instrument's token sees its own entries only.",
            ),
            OpenApiParameter(
                "since",
                OpenApiTypes.DATETIME,
                description="Received at or after (ISO 8601; without an offset, lab time).",
            ),
        ],
    )
)
class InboxList(generics.ListAPIView):
    """The unmatched inbox, oldest first, a page of 100 at a time (cursor): each entry with why
    it matched no waiting sample, the result as sent, the message it came from, its instrument,
    when it was received and, once resolved, how, when, by whom and why."""

    serializer_class = InboxEntrySerializer
    permission_classes = [roles_allowed(*STAFF, Role.INSTRUMENT)]
    pagination_class = OldestFirst

    def get_queryset(self) -> QuerySet[UnmatchedResult]:
        params = self.request.query_params
        status = params.get("status", InboxStatus.OPEN.value)
        if status not in {s.value for s in InboxStatus}:
            choices = ", ".join(s.value for s in InboxStatus)
            raise ValidationError({"status": [f"Not a status: {status[:40]!r}. One of {choices}."]})
        since = filter_moment("since", params["since"]) if "since" in params else None
        return inbox_entries(
            status=InboxStatus(status),
            instrument=self._instrument(params.get("instrument")),
            since=since,
        )

    def _instrument(self, name: str | None) -> Instrument | None:
        """The instrument whose entries are read: an instrument's token reads its own (naming
        another is refused); a person names one, or none for all."""
        user: Any = self.request.user
        if not has_role(user, *STAFF):  # an active instrument: the permission lets in no other
            if name is not None and name != user.instrument.name:
                raise PermissionDenied("An instrument's token reads its own inbox entries only.")
            return user.instrument
        if name is None:
            return None
        instrument = Instrument.objects.filter(name=name).first()
        if instrument is None:
            shown = name if len(name) <= 40 else name[:40] + "…"
            raise ValidationError({"instrument": [f"No instrument is named {shown!r}."]})
        return instrument
