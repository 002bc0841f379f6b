"""``GET /healthz``: is the database reachable, is the broker reachable.

Answers 200 when both are, 503 when either is not, with a JSON body naming which. Unauthenticated
by design (load balancers and compose health checks call it), so it reports no error details:
those go to the log.
"""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from labtrack.celery import app as celery_app

log = logging.getLogger(__name__)


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        log.exception("health check: database unreachable")
        return False


def broker_ok() -> bool:
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    try:
        with celery_app.connection_for_write(
            url=settings.CELERY_BROKER_URL, connect_timeout=timeout
        ) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
        return True
    except Exception:  # kombu raises transport-specific errors; any of them means "down"
        log.exception("health check: broker unreachable")
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_ok(), "broker": broker_ok()}
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        **{name: "ok" if ok else "unreachable" for name, ok in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)
