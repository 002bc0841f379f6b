"""Headers every answer carries for the browser's part of security.

- ``Content-Security-Policy`` on every answer: scripts, styles, images, fonts and connections
  only from LabTrack itself (no inline script, no inline handler, no ``eval``; no inline style),
  forms posted only to LabTrack, and no page framed by anyone (``frame-ancestors 'none'``). The
  pages' behaviour lives in ``static/js``; htmx runs with ``allowEval`` off.
- ``Cache-Control: no-store`` on every answer to a signed-in person or an API client (pages,
  fragments, API answers, exports, PDFs): nothing a person saw stays in the browser's or a
  shared cache after they leave the bench. Static files are served before this middleware
  (WhiteNoise) and keep their own caching.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if _signed_in(request) and "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response


def _signed_in(request: HttpRequest) -> bool:
    """A person's session or an API token: the API's authentication sets ``request.user`` on
    the request when it accepts a token, so both are seen here, after the view."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return True
    return "HTTP_AUTHORIZATION" in request.META
