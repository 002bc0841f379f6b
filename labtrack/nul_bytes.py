"""Refusing the NUL character (U+0000) wherever a request carries text: its address, its query
string, its headers (cookies included) and its form fields. PostgreSQL text cannot hold it, so
a NUL that reached a query or a row would end in a server error; here it gets a 400 naming
where it was, before any session, user or view is looked up, and nothing is written.

JSON bodies are checked by the API's parser (samples/api/errors.py), HL7 messages by the HL7
endpoint's (samples/api/hl7.py), uploaded files by the view that reads them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

NUL = "\x00"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def nul_refusal(where: str) -> str:
    return f"The {where} holds a NUL character (U+0000), which is never accepted."


def _header_name(meta_key: str) -> str:
    name = meta_key.removeprefix("HTTP_")
    return "-".join(part.capitalize() for part in name.split("_"))


def where_nul(request: HttpRequest) -> str | None:
    """Where the request carries a NUL, in words, or None."""
    if NUL in request.path_info or NUL in request.path:
        return "address"
    if NUL in request.META.get("QUERY_STRING", "") or _in_pairs(request.GET.lists()):
        return "query string"
    for key, value in request.META.items():
        if (key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")) and (
            isinstance(value, str) and NUL in value
        ):
            return f"{_header_name(key)} header"
    # The API takes JSON and HL7 only: its parsers check those bodies.
    api = request.path.startswith("/api/")
    if request.method == "POST" and request.content_type in FORM_TYPES and not api:
        field = _in_pairs(request.POST.lists())  # uploaded files' names lose theirs
        if field:
            return f"form field {field!r}"
    return None


def _in_pairs(pairs: object) -> str | None:
    for name, values in pairs:  # type: ignore[attr-defined]
        if NUL in name or any(NUL in value for value in values):
            return name.replace(NUL, "\\0")
    return None


class RefuseNulMiddleware:
    """A 400 for a request carrying a NUL: JSON (``{"detail": ...}``) under ``/api/``, plain
    text for the pages (no page can be drawn yet: no session or user has been read)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = where_nul(request)
        if where is None:
            return self.get_response(request)
        message = nul_refusal(where)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400)
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
