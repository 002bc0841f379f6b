"""The API's error bodies, made here and only here (REST_FRAMEWORK's ``EXCEPTION_HANDLER`` and
``DEFAULT_PARSER_CLASSES``, the project's ``handler404``), and the serializers that describe
them in the schema. Every 4xx is JSON, in one of two shapes:

- ``{"detail": "<problem>"}``: 401, 403 (a service's ``NotAllowed`` too), 404, 405, 413, 415,
  429, and 400 for a body that is not JSON at all (not UTF-8, malformed, nested deeper than
  ``MAX_JSON_DEPTH``) or a request carrying a NUL character in its address, query string or
  headers (labtrack/nul_bytes.py);
- ``{"<field>": ["<problem>", ...], ...}``: 400 naming each malformed field, or the field a
  service's ``LabError`` names (``non_field_errors`` when it names none). A nested field is
  named by its dotted path: ``assays.0`` (the first assay), ``1.value`` (the ``value`` of the
  second result of a list). A NUL character (U+0000) in any string of a JSON body is named so.

API views raise refusals and leave their bodies to ``api_exception_handler``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import parse_header_parameters
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

from samples.errors import LabError, NotAllowed


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The body is too large."
    default_code = "payload_too_large"


def _too_large() -> PayloadTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return PayloadTooLarge(f"The body is larger than the {limit} bytes allowed.")


# Deeper than this, a body is refused: no body of this API nests more than 3 levels, and
# Python's decoder gives up (RecursionError) somewhere near a thousand.
MAX_JSON_DEPTH = 32
NUL_IN_TEXT = "Null characters are not allowed."  # DRF's own words for a CharField
SURROGATE_IN_TEXT = "Not Unicode text: it holds a lone surrogate (\\ud800 to \\udfff)."
_UTF8 = ("utf-8", "utf8")
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff")  # UTF-16 and UTF-32, little or big endian


class SizedJSONParser(JSONParser):
    """JSON bodies as UTF-8 text, up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (larger ones get
    413; Django enforces that limit only on ``request.body``, and DRF reads the body as a
    stream), nested at most ``MAX_JSON_DEPTH`` deep and with no NUL in any string (PostgreSQL
    text cannot hold it). Another declared charset gets 415; bytes that are not UTF-8 (UTF-16
    or UTF-32 with or without a byte order mark, Latin-1...) get 400."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        _, params = parse_header_parameters(media_type or "")
        charset = params.get("charset", "utf-8").strip().lower()
        if charset not in _UTF8:
            raise exceptions.UnsupportedMediaType(
                media_type, f"JSON bodies are UTF-8, not {charset}: send the body as UTF-8."
            )
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        body = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(body) > limit:
            raise _too_large()
        text = _utf8_text(body)
        try:
            data = json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise _too_deep() from None
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        _check_strings_and_depth(data)
        return data


def _utf8_text(body: bytes) -> str:
    # UTF-16 and UTF-32 text of plain ASCII is valid UTF-8 apart from its NUL bytes.
    wide = body.startswith(_WIDE_BOMS) or b"\x00" in body
    if not wide:
        try:
            return body.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    looks = " (it looks like UTF-16 or UTF-32)" if wide else ""
    raise exceptions.ParseError(f"The body is not UTF-8 text{looks}: send JSON as UTF-8.")


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(f"The JSON is nested more than {MAX_JSON_DEPTH} levels deep.")


def _text_problem(text: str) -> str | None:
    """Why PostgreSQL could not store ``text``: a NUL, or an escaped lone surrogate."""
    if "\x00" in text:
        return NUL_IN_TEXT
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return SURROGATE_IN_TEXT
    return None


def _check_strings_and_depth(data: Any) -> None:
    """A 400 for a body nested too deep, or naming the first string (or key) that cannot be
    stored: one holding a NUL or a lone surrogate."""
    waiting: list[tuple[Any, str, int]] = [(data, "", 0)]
    while waiting:
        value, path, depth = waiting.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise _too_deep()
            pairs = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in pairs:
                name = _dotted(path, str(key))
                problem = _text_problem(str(key))
                if problem:
                    raise exceptions.ValidationError({name: [problem]})
                waiting.append((item, name, depth + 1))
        elif isinstance(value, str) and (problem := _text_problem(value)):
            raise exceptions.ValidationError({path or "non_field_errors": [problem]})


def _dotted(path: str, name: str) -> str:
    name = name.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\0")
    return f"{path}.{name}" if path else name


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
    # Imported here: importing rest_framework.views reads DEFAULT_PARSER_CLASSES, which names
    # this module's parser, so a module-level import fails whenever this module comes first.
    from rest_framework.views import exception_handler

    if isinstance(exc, RequestDataTooBig):  # raised by ``request.body``
        exc = _too_large()
    elif isinstance(exc, LabError):
        exc = _refused(exc)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = field_errors(exc.detail)
    return response


def _refused(refusal: LabError) -> exceptions.APIException:
    """A service's refusal: 403 with its words when the role may not act (``NotAllowed``), else
    400 naming its field (``non_field_errors`` when it names none)."""
    if isinstance(refusal, NotAllowed):
        return exceptions.PermissionDenied(refusal.message)
    return exceptions.ValidationError({refusal.field or "non_field_errors": [refusal.message]})


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
