"""Expected refusals on pages, answered here once: a service's ``LabError`` (``NotAllowed`` when
the role may not act) and the engine's ``InterventionRefused``. Nothing has changed when one is
raised, so the page says why and the person tries again.

- ``refusal_status``: the status of a page shown again with what was typed and why it was
  refused: 403 for the role, 400 for a refused value of a field, 409 for an action the
  sample's (or entry's, batch's) state does not allow now.
- ``@refusal_as_message(back=...)``: for a form that posts and redirects. The view is written
  for the case that works; a refusal it raises goes to the page's message area and the person
  back to ``back``, and a role refusal answers 403 with its message.

Views whose refusal is part of their own page (a form's field errors, an htmx partial) catch
it themselves. Unknown objects answer 404 (``Http404``), not from here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from samples.errors import LabError, NotAllowed
from workflows.ops import InterventionRefused

REFUSALS = (LabError, InterventionRefused)


def refusal_status(refusal: LabError) -> int:
    if isinstance(refusal, NotAllowed):
        return 403
    return 400 if refusal.field else 409


def refusal_as_message(
    *, back: str | Callable[..., str], text: str = "{refusal}"
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """``back``: a URL name or address, or a function of the request and the view's arguments
    returning one. ``text``: the message, from the view's arguments and ``{refusal}`` (the
    refusal's own words), such as ``"{barcode}: {refusal}"``."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except NotAllowed as refusal:
                return HttpResponse(refusal.message, status=403, content_type="text/plain")
            except REFUSALS as refusal:
                messages.error(request, text.format(refusal=refusal, **kwargs))
                return redirect(back(request, *args, **kwargs) if callable(back) else back)

        return answered

    return decorator


def locked_out(request: HttpRequest) -> HttpResponse:
    """The answer to a signing form whose password failed once too often (the signer raised
    ``AccountLocked``): the lockout response (labtrack/lockout.py) takes over, ends the session
    and says the account is locked, for how long and who can unlock it."""
    request.axes_locked_out = True  # type: ignore[attr-defined]
    return HttpResponse(status=429)
