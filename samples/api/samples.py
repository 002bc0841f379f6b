"""Samples and batches over the API: register a sample (the same service as the page), list and
read samples with their results, retests and what their lifecycle waits for, read a sample's
history, and the batches with their plate positions (what an instrument loads)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from samples import services
from samples.api.permissions import STAFF, roles_allowed
from samples.api.serializers import (
    BatchOutSerializer,
    HistoryEventSerializer,
    SampleDetailSerializer,
    SampleOutSerializer,
    SampleRegisterSerializer,
)
from samples.models import Batch, Sample, SampleState
from samples.roles import Role
from samples.selectors.specimens import sample_runs
from samples.values.codes import code_clean


def filter_moment(name: str, text: str) -> datetime:
    """``text`` as an aware time in UTC, or a 400 naming the filter. In UTC because PostgreSQL
    refuses offsets past 15:59 that Python accepts; a time without an offset is local."""
    try:  # parse_datetime: None when not ISO 8601, ValueError for a 30 February
        moment = parse_datetime(text)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: past year 9999 once in UTC
        pass
    raise ValidationError({name: ["Not an ISO 8601 date and time."]})


class TimeCursor(CursorPagination):
    """DRF's cursor pages, ordered by a time first; a cursor whose position is not a time
    PostgreSQL can compare (edited or built by hand: not ISO 8601, no such day, a NUL, an offset
    past 15:59) gets the same 404 as any other invalid cursor."""

    def decode_cursor(self, request: Request) -> Any:
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        try:
            return cursor._replace(position=filter_moment("cursor", cursor.position).isoformat())
        except ValidationError:
            raise NotFound(self.invalid_cursor_message) from None


class NewestFirst(TimeCursor):
    ordering = ("-registered_at", "-id")
    page_size = 100


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=SampleState.values, description="Only this state."),
            OpenApiParameter("assay", str, description="Only samples ordering this assay code."),
            OpenApiParameter(
                "received_after", OpenApiTypes.DATETIME, description="Received at or after."
            ),
            OpenApiParameter("received_before", OpenApiTypes.DATETIME, description="Before."),
            OpenApiParameter(
                "released_after",
                OpenApiTypes.DATETIME,
                description="Results verified and released at or after.",
            ),
            OpenApiParameter("released_before", OpenApiTypes.DATETIME, description="Before."),
        ]
    ),
    post=extend_schema(
        request=SampleRegisterSerializer,
        responses={201: SampleOutSerializer},
        examples=[
            OpenApiExample(
                "A routine glucose and creatinine order",
                request_only=True,
                value={
                    "barcode": "S-000123",
                    "specimen_type": "serum",
                    "subject_ref": "MRN-448812",
                    "collected_at": "2026-11-25T08:40:00Z",
                    "priority": "routine",
                    "assays": ["GLU", "CREA"],
                },
            )
        ],
    ),
)
class SampleList(generics.ListCreateAPIView):
    """``GET``: samples, newest first, filtered by ``state``, ``assay``, ``received_after``,
    ``received_before``, ``released_after``, ``released_before`` (ISO 8601), a page at a time
    (cursor). ``POST``: register a sample
    (technicians)."""

    serializer_class = SampleOutSerializer
    pagination_class = NewestFirst
    readers = roles_allowed(*STAFF)
    registrars = roles_allowed(Role.TECHNICIAN)

    def get_permissions(self) -> list[Any]:
        # Who may register is checked before the body is: a reviewer's script gets 403, not a
        # list of its body's problems (sample_register checks the role again, for the page).
        method = getattr(self.request, "method", "GET")
        return [self.registrars() if method == "POST" else self.readers()]

    def get_queryset(self) -> QuerySet[Sample]:
        params = self.request.query_params
        samples = Sample.objects.prefetch_related("assays")
        state = params.get("state")
        if state is not None:
            if state not in SampleState.values:
                raise ValidationError({"state": [f"Not a state: {state!r}."]})
            samples = samples.filter(state=state)
        if params.get("assay"):
            samples = samples.filter(assays__code=code_clean(params["assay"]))
        for name, lookup in (
            ("received_after", "received_at__gte"),
            ("received_before", "received_at__lt"),
            ("released_after", "released_at__gte"),
            ("released_before", "released_at__lt"),
        ):
            if name in params:
                samples = samples.filter(**{lookup: filter_moment(name, params[name])})
        return samples

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = SampleRegisterSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # The serializer's fields are the service's arguments; a refusal is answered by
        # samples.api.errors like any other.
        sample = services.sample_register(user=request.user, **form.validated_data)
        return Response(SampleOutSerializer(sample).data, status=status.HTTP_201_CREATED)


class SampleDetail(generics.RetrieveAPIView):
    serializer_class = SampleDetailSerializer
    permission_classes = [roles_allowed(*STAFF)]
    lookup_field = "barcode"
    queryset = Sample.objects.prefetch_related("assays", "results__assay")

    def get_object(self) -> Sample:
        try:
            return super().get_object()
        except Http404:
            raise NotFound(f"No sample has the barcode {self.kwargs['barcode']}.") from None


class SampleHistory(generics.ListAPIView):
    """The sample's lifecycle history: every event of every workflow run the sample has had,
    the oldest run first and each run's events in order, with the run it belongs to, its time,
    actor, reason and data. A sample has more than one run after a restart from a step: the
    new run's history starts with a copy of the old one's up to that step, then
    `run_restarted`; the old run ends with `run_superseded`."""

    serializer_class = HistoryEventSerializer
    permission_classes = [roles_allowed(*STAFF)]
    pagination_class = None

    def get_queryset(self) -> list[Any]:  # type: ignore[override]
        barcode = self.kwargs["barcode"]
        sample = Sample.objects.filter(barcode=barcode).first()
        if sample is None or sample.run_id is None:
            raise NotFound(f"No sample has the barcode {barcode}.")
        # The same read as the sample's page and dossier: every run linked to the sample.
        return [{"run": run.id, **asdict(e)} for run in sample_runs(sample) for e in run.history]


class NewestBatchFirst(TimeCursor):
    ordering = ("-opened_at", "-id")
    page_size = 100


class BatchList(generics.ListAPIView):
    """Batches, newest first, with their plate positions (what an instrument loads)."""

    serializer_class = BatchOutSerializer
    permission_classes = [roles_allowed(*STAFF, Role.INSTRUMENT)]
    pagination_class = NewestBatchFirst
    queryset = Batch.objects.select_related("assay")


class BatchDetail(generics.RetrieveAPIView):
    serializer_class = BatchOutSerializer
    permission_classes = [roles_allowed(*STAFF, Role.INSTRUMENT)]
    queryset = Batch.objects.select_related("assay")

    def get_object(self) -> Batch:
        try:
            return super().get_object()
        except Http404:
            raise NotFound(f"No batch has the id {self.kwargs['pk']}.") from None
