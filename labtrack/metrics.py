"""``GET /metrics``: Prometheus text for the operator's scraper, read from the tables.

The engine's metrics come from ``workflows.metrics``, the lab's from ``samples.selectors.metrics``;
both query PostgreSQL at scrape time. Only a scraper holding ``METRICS_TOKEN`` gets them (sent as
``Authorization: Bearer <token>``); without the setting the endpoint does not exist (404).
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from samples.selectors.metrics import LabCollector
from workflows.metrics import WorkflowCollector

log = logging.getLogger(__name__)

registry = CollectorRegistry()
registry.register(WorkflowCollector())
registry.register(LabCollector())


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are not enabled.")
    if not hmac.compare_digest(_bearer_token(request).encode(), expected.encode()):
        response = HttpResponse("A valid bearer token is required.\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        response["Content-Type"] = "text/plain; charset=utf-8"
        return response
    try:
        body = generate_latest(registry)
    except DatabaseError:
        log.exception("metrics: the database did not answer")
        return HttpResponse(
            "The database did not answer.\n", status=503, content_type="text/plain; charset=utf-8"
        )
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
