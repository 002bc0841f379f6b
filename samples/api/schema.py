"""How the API describes itself (REST_FRAMEWORK's ``DEFAULT_SCHEMA_CLASS``): every operation
lists the errors it may answer, with their bodies (samples.api.errors), so no endpoint has to
repeat them. Views only add what is theirs (a 2xx, a refusal body of their own)."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from samples.api.errors import ErrorSerializer, FieldErrorsSerializer
from samples.api.serializers import MAX_ITEMS, ResultItemSerializer

BAD_REQUEST = PolymorphicProxySerializer(
    component_name="BadRequest",
    serializers=[FieldErrorsSerializer, ErrorSerializer],
    resource_type_field_name=None,
)

_BODY_METHODS = {"POST", "PUT", "PATCH"}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code, (body, description) in self._errors().items():
            responses.setdefault(
                code, self._get_response_for_code(OpenApiResponse(body, description), code)
            )
        return dict(sorted(responses.items()))

    def _errors(self) -> dict[str, tuple[Any, str]]:
        errors: dict[str, tuple[Any, str]] = {}
        filters = [
            p
            for p in self.get_override_parameters()
            if isinstance(p, OpenApiParameter) and p.location == OpenApiParameter.QUERY
        ]
        if self.method in _BODY_METHODS:
            errors["400"] = (BAD_REQUEST, "A malformed body: each field and its problem.")
            errors["413"] = (ErrorSerializer, "The body is too large.")
            errors["415"] = (ErrorSerializer, "The body is not JSON (Content-Type).")
        elif filters:
            errors["400"] = (BAD_REQUEST, "A filter's value is not valid.")
        else:  # labtrack/nul_bytes.py answers before any view
            errors["400"] = (ErrorSerializer, "A NUL character in the address or a header.")
        if "{" in self.path or (self.method == "GET" and self._get_paginator() is not None):
            errors["404"] = (ErrorSerializer, "Nothing has this identifier, or a stale cursor.")
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            errors["401"] = (ErrorSerializer, "No token, or an unknown or revoked one.")
            errors["403"] = (ErrorSerializer, "The token's owner may not do this.")
        if self.view.get_throttles():
            errors["429"] = (ErrorSerializer, "Too many requests from this client: retry later.")
        return errors

    def _get_response_headers_for_code(self, status_code: str, direction: Any = "response") -> Any:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if status_code == "429":
            headers["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds to wait before the next request.",
            }
        return headers


class ErrorSchema(OpenApiSerializerExtension):
    target_class = ErrorSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {**super().map_serializer(auto_schema, direction), "additionalProperties": False}


class FieldErrorsSchema(OpenApiSerializerExtension):
    target_class = FieldErrorsSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {
            "type": "object",
            "description": "Each malformed field (a dotted path for a nested one: `assays.0`, "
            "`1.value`) with its problems.",
            "minProperties": 1,
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }


class ResultsMessage(serializers.Serializer):
    """The body of ``POST /api/v1/results/``: one result, or a list of them."""


class ResultsMessageSchema(OpenApiSerializerExtension):
    target_class = ResultsMessage

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        item = auto_schema.resolve_serializer(ResultItemSerializer, direction).ref
        many = {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_ITEMS}
        return {"oneOf": [item, many]}
