"""``POST /api/v1/samples/<barcode>/critical-calls/``: record a call about a sample's critical
value, for integrators (a ward system, a call centre). The rules are the service's
(``samples.services.critical``): technicians and reviewers; ``confirmed`` needs ``read_back``
equal to the result's value; ``confirmed`` and ``reached_without_read_back`` close the
notification, ``unable_to_reach`` leaves it open; a closed notification takes no more calls.
A refusal is a 400 naming the field (``non_field_errors`` for a closed notification or a
sample with no critical value), 403 for another role, 404 for an unknown sample; nothing is
recorded."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from samples import services
from samples.api.permissions import roles_allowed
from samples.models import CALLED_OUTCOMES, CallOutcome, CriticalCall
from samples.roles import Role
from samples.selectors.specimens import sample_find


class CriticalCallInSerializer(serializers.Serializer):
    assay = serializers.CharField(
        required=False, allow_blank=True, max_length=32,
        help_text="The assay of the critical value; needed only when the sample has several open.",
    )  # fmt: skip
    called_name = serializers.CharField(max_length=120, help_text="Who was called.")
    called_where = serializers.CharField(
        required=False, allow_blank=True, max_length=120, help_text="Where, or in which role."
    )
    called_at = serializers.CharField(
        required=False, allow_blank=True, max_length=64,
        help_text="When (ISO 8601; without an offset, lab time). Default: now.",
    )  # fmt: skip
    read_back = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=32,
        help_text="The value the person called read back; required for `confirmed`.",
    )  # fmt: skip
    outcome = serializers.ChoiceField(
        choices=[(o.value, o.label) for o in CALLED_OUTCOMES],
        help_text="What the call came to (`withdrawn` is recorded by a correction, not a call).",
    )


class CriticalCallOutSerializer(serializers.ModelSerializer):
    barcode = serializers.CharField(source="notification.sample.barcode")
    assay = serializers.CharField(source="notification.result.assay.code")
    recorded_by = serializers.CharField(source="recorded_by.username")
    closes = serializers.SerializerMethodField()

    class Meta:
        model = CriticalCall
        fields = [
            "id", "barcode", "assay", "called_name", "called_where", "called_at", "read_back",
            "outcome", "closes", "recorded_by", "recorded_at",
        ]  # fmt: skip

    def get_closes(self, call: CriticalCall) -> bool:
        return call.outcome != CallOutcome.UNREACHED


class CriticalCalls(APIView):
    permission_classes = [roles_allowed(Role.TECHNICIAN, Role.REVIEWER)]

    @extend_schema(
        operation_id="critical_call_record",
        request=CriticalCallInSerializer,
        responses={201: CriticalCallOutSerializer},
        examples=[
            OpenApiExample(
                "A confirmed call",
                request_only=True,
                value={
                    "called_name": "Dr Ruiz",
                    "called_where": "ward 5",
                    "read_back": "1.8",
                    "outcome": "confirmed",
                },
            )
        ],
    )
    def post(self, request: Request, barcode: str) -> Response:
        """Record a call about the sample's open critical value."""
        sample = sample_find(barcode)
        if sample is None:
            raise NotFound(f"No sample has the barcode {barcode[:40]}.")
        form = CriticalCallInSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data: dict[str, Any] = form.validated_data
        call = services.critical_call_record(user=request.user, barcode=sample.barcode, **data)
        return Response(CriticalCallOutSerializer(call).data, status=status.HTTP_201_CREATED)
