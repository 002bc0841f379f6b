"""Health endpoints for load balancers, orchestrators and operators.

- ``GET /livez``: the process answers requests. Touches nothing external; always 200.
- ``GET /readyz`` (and ``/healthz``, its older name): the database and the broker are reachable.
  200, or 503 naming which is not.
- ``GET /healthz/deep``: readiness, plus a Celery worker answers a ping, beat's heartbeat is
  recent (``labtrack.beat``) and the workflow sweep ran recently (``workflows.heartbeat``).
  200 only when every part is fine, else 503 listing the failed parts; both give the ages.

All are unauthenticated by design, so the JSON bodies name states, never errors: the details go
to the log.
"""

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from labtrack.beat import beat_status
from labtrack.celery import app as celery_app
from workflows import heartbeat

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


def worker_answers() -> bool:
    """Whether at least one Celery worker replies to a broadcast ping within the timeout."""
    timeout = settings.HEALTH_CHECK_TIMEOUT_SECONDS
    try:
        with celery_app.connection_for_write(
            url=settings.CELERY_BROKER_URL, connect_timeout=timeout
        ) as conn:
            replies = celery_app.control.ping(timeout=timeout, limit=1, connection=conn)
    except Exception:  # as in broker_ok: any transport error means no answer
        log.exception("health check: could not ping the workers")
        return False
    if not replies:
        log.warning("health check: no Celery worker answered a ping within %ss", timeout)
    return bool(replies)


def sweep_state() -> tuple[str, float | None]:
    """``ok``, ``late`` (past ``HEALTH_SWEEP_MAX_LAG_SECONDS``), ``never run`` or ``unknown``
    (the database could not be read), with the lag in seconds when one is recorded."""
    try:
        lag = heartbeat.sweep_lag()
    except DatabaseError:
        log.exception("health check: the time of the last sweep could not be read")
        return "unknown", None
    if lag is None:
        return "never run", None
    return ("ok" if lag <= settings.HEALTH_SWEEP_MAX_LAG_SECONDS else "late"), lag


def _seconds(age: float | None) -> int | None:
    return None if age is None else round(age)


def _readiness() -> dict[str, bool]:
    return {"database": database_ok(), "broker": broker_ok()}


def _respond(parts: dict[str, str], **extra: Any) -> JsonResponse:
    failed = [name for name, state in parts.items() if state != "ok"]
    body = {"status": "unavailable" if failed else "ok", **parts, **extra}
    return JsonResponse(body, status=503 if failed else 200)


@never_cache
@require_GET
def livez(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    return _respond({name: "ok" if ok else "unreachable" for name, ok in _readiness().items()})


@never_cache
@require_GET
def deep(request: HttpRequest) -> JsonResponse:
    ready = _readiness()
    parts = {name: "ok" if ok else "unreachable" for name, ok in ready.items()}
    # No broker, no way to ask the workers: "unknown" rather than a ping doomed to time out.
    if ready["broker"]:
        parts["worker"] = "ok" if worker_answers() else "no answer"
    else:
        parts["worker"] = "unknown"
    beat = beat_status()
    parts["beat"] = beat.state
    parts["sweep"], lag = sweep_state()
    return _respond(
        parts,
        beat_age_seconds=_seconds(beat.age),
        sweep_lag_seconds=_seconds(lag),
        failed=[name for name, state in parts.items() if state != "ok"],
    )
