"""The results door of the API (``POST /api/v1/results/``): thin, from the request to the
intake service. Its refusals are raised; ``samples.api.errors`` makes their 4xx bodies."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from samples.api.errors import ErrorSerializer, FieldErrorsSerializer
from samples.api.permissions import IsInstrument
from samples.api.schema import ResultsMessage
from samples.api.serializers import (
    MAX_ITEMS,
    ResultItemSerializer,
    ResultsAnswerSerializer,
    ResultsConflictSerializer,
    ResultsRefusalSerializer,
)
from samples.services.intake import Sent, message_refused, results_receive


class ResultsView(APIView):
    """``POST /api/v1/results/``: one result or a list of them, from an instrument.

    201: all recorded. 202: recorded, but some matched no waiting sample and went to the
    unmatched inbox. 400: an item is malformed or refused; nothing is recorded. 409: the
    ``Idempotency-Key`` was used before with another body. The same key with the same body, or
    a repeated (run_id, sample, assay), returns the first answer. Every message is kept.
    """

    permission_classes = [IsInstrument]

    @extend_schema(
        operation_id="results_create",
        request=ResultsMessage,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="A key of yours: the same key again returns the first answer.",
            )
        ],
        responses={
            201: ResultsAnswerSerializer,
            202: OpenApiResponse(
                ResultsAnswerSerializer,
                description="Recorded; some results went to the unmatched inbox.",
            ),
            400: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="ResultsBadRequest",
                    serializers=[FieldErrorsSerializer, ErrorSerializer, ResultsRefusalSerializer],
                    resource_type_field_name=None,
                ),
                description="A malformed item (the field and the problem), or "
                "a refused value; nothing was recorded.",
            ),
            403: OpenApiResponse(
                ErrorSerializer, description="The token is not an active instrument's."
            ),
            409: OpenApiResponse(
                ResultsConflictSerializer,
                description="The Idempotency-Key was used before with another body: this "
                "message is kept, nothing of it recorded.",
            ),
        },
        examples=[
            OpenApiExample(
                "One result",
                request_only=True,
                value=[
                    {
                        "sample": "S-000123",
                        "assay": "GLU",
                        "value": "5.4",
                        "units": "mmol/L",
                        "flags": [],
                        "run_id": "R-2026-11-25-01",
                        "measured_at": "2026-11-25T10:02:00Z",
                    }
                ],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        raw = request.body  # the bytes received, kept as they are, refused or not
        key = request.headers.get("Idempotency-Key") or None
        sent = Sent(
            request.user, "results", raw, "http", request.content_type or "", request.encoding
        )
        try:
            items = self._items(request)
            _check_key(key)
        except (ValidationError, ParseError) as refused:
            message_refused(replace(sent, key=_as_sent(key)), 400, _said(refused))
            raise
        receipt = results_receive(
            client=request.user,
            items=items,
            raw_body=raw,
            content_type=sent.content_type,
            idempotency_key=key,
            charset=request.encoding,
        )
        return Response(receipt.answer, status=receipt.status)

    @staticmethod
    def _items(request: Request) -> list[dict[str, Any]]:
        data: Any = request.data
        many = isinstance(data, list)
        if many and not 1 <= len(data) <= MAX_ITEMS:
            raise ValidationError(
                {"non_field_errors": [f"Send 1 to {MAX_ITEMS} results at a time."]}
            )
        serializer = ResultItemSerializer(data=data, many=many)
        serializer.is_valid(raise_exception=True)
        checked = serializer.validated_data if many else [serializer.validated_data]
        return [dict(item) for item in checked]


def _check_key(key: str | None) -> None:
    if key is None:
        return
    if len(key) > 200:
        raise ValidationError({"Idempotency-Key": ["At most 200 characters."]})
    if _as_sent(key) != key:
        raise ValidationError({"Idempotency-Key": ["Only text characters, no surrogates."]})


def _as_sent(key: str | None) -> str | None:
    """The key as kept with a refused message: at most 200 characters, storable text."""
    return key[:200].encode("utf-8", "replace").decode("utf-8") if key else None


def _said(refused: APIException) -> dict[str, Any]:
    """A refusal as kept with the message: its first reason in words, and all of them."""
    said = json.loads(json.dumps(refused.detail, default=str))
    first = said
    while isinstance(first, dict | list) and first:
        first = next(iter(first.values() if isinstance(first, dict) else first))
    return {"detail": f"Refused: {first}", "errors": said}
