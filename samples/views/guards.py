"""Guards for GET answers that are heavy to make.

A download such as the whole audit trail, streamed, is a GET so that it can be a plain link, but
no other site may start it in a signed-in person's browser (a link or a redirect from a page
elsewhere). Browsers say where a request comes from in ``Sec-Fetch-Site``: ``same-origin`` (a
page of LabTrack) and ``none`` (typed, a bookmark) are served; another site, even a sibling
host (``same-site``), gets 403 and nothing is made. A client without the header (a script,
``curl``) is served: it carries no one else's session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

FROM_LABTRACK = {"same-origin", "none"}


def from_labtrack_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in FROM_LABTRACK:
            return HttpResponse(
                "This download starts only from LabTrack's own pages: open it from the page.",
                status=403,
                content_type="text/plain; charset=utf-8",
            )
        return view(request, *args, **kwargs)

    return guarded
