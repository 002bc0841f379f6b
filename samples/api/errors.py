"""The API's error bodies, made here and only here (REST_FRAMEWORK's ``EXCEPTION_HANDLER`` and
``DEFAULT_PARSER_CLASSES``, the project's ``handler404``), and the serializers that describe
them in the schema. Every 4xx is JSON, in one of two shapes:

- ``{"detail": "<problem>"}``: 401, 403, 404, 405, 413, 415, 429, and 400 for a body that is not
  JSON at all;
- ``{"<field>": ["<problem>", ...], ...}``: 400 naming each malformed field. A nested field is
  named by its dotted path: ``assays.0`` (the first assay), ``1.value`` (the ``value`` of the
  second result of a list).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.views import exception_handler


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The body is too large."
    default_code = "payload_too_large"


def _too_large() -> PayloadTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return PayloadTooLarge(f"The body is larger than the {limit} bytes allowed.")


class SizedJSONParser(JSONParser):
    """JSON bodies up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes; larger ones get 413. Django
    enforces that limit only on ``request.body``, and DRF reads the body as a stream."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise _too_large()
            stream = io.BytesIO(body)
        return super().parse(stream, media_type, parser_context)


def field_errors(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested validation errors as ``{"dotted.path": ["problem", ...]}``."""
    if isinstance(detail, dict):
        found: dict[str, list[str]] = {}
        for key, value in detail.items():
            found.update(field_errors(value, f"{path}.{key}" if path else str(key)))
        return found
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        found = {}
        for index, item in enumerate(detail):
            found.update(field_errors(item, f"{path}.{index}" if path else str(index)))
        return found
    problems = detail if isinstance(detail, list) else [detail]
    if not problems:
        return {}
    return {path or "non_field_errors": [str(problem) for problem in problems]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Any:
    if isinstance(exc, RequestDataTooBig):  # raised by ``request.body``
        exc = _too_large()
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = field_errors(exc.detail)
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A path that matches no route: JSON under ``/api/``, the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "There is nothing at this address."}, status=404)
    return defaults.page_not_found(request, exception)


class ErrorSerializer(serializers.Serializer):
    """An error, in words."""

    detail = serializers.CharField(help_text="What went wrong.")


class FieldErrorsSerializer(serializers.Serializer):
    """Each malformed field with its problems (the schema is samples.api.schema's)."""
