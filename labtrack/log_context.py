"""What each log line says about the request or Celery task it was written in.

django-structlog's ``RequestMiddleware`` binds a request id and the user id to every line
written while a request is handled, and logs ``request_finished`` with the status code; its
Celery support binds the task id and carries the request's context into the tasks it sends.
The receivers here adjust that to LabTrack:

- the request id is the caller's ``X-Request-ID`` when it is a sane token (a proxy or a client
  correlating its own logs), otherwise a new UUID; it is echoed in the response's
  ``X-Request-ID`` header either way;
- the client's address is the one login lockout trusts (``labtrack.client_address``):
  ``REMOTE_ADDR``, or behind ``TRUSTED_PROXY_COUNT`` proxies the address the outermost saw,
  never what a client wrote into a forwarded header;
- a request is logged as method and path: query strings stay out of the log;
- task lines name their task (``task_name``) as well as its id.

Imported by ``labtrack.celery`` (which every process imports first), so the receivers are
connected before the first request or task.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django_structlog import signals as request_signals
from django_structlog.celery import signals as task_signals

from labtrack.client_address import client_address

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and a few separators, as proxies and tracing tools write them; anything else
# (spaces, quotes, control characters, a kilobyte of text) is replaced, never logged.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=-]{0,127}")


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is sane, otherwise a new one."""
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return str(uuid.uuid4())


def _request_text(request: HttpRequest) -> str:
    return f"{request.method} {request.path}"


@receiver(request_signals.bind_extra_request_metadata)
def bind_request_context(
    sender: Any, request: HttpRequest, log_kwargs: dict[str, Any], **kwargs: Any
) -> None:
    request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    request.request_id = request_id  # type: ignore[attr-defined]
    structlog.contextvars.bind_contextvars(request_id=request_id, ip=client_address(request))
    log_kwargs["request"] = _request_text(request)


@receiver(request_signals.bind_extra_request_finished_metadata)
def echo_request_id(
    sender: Any,
    request: HttpRequest,
    response: HttpResponse,
    log_kwargs: dict[str, Any],
    **kwargs: Any,
) -> None:
    log_kwargs["request"] = _request_text(request)
    _echo(request, response)


@receiver(request_signals.bind_extra_request_failed_metadata)
def describe_failed_request(
    sender: Any, request: HttpRequest, log_kwargs: dict[str, Any], **kwargs: Any
) -> None:
    log_kwargs["request"] = _request_text(request)


@receiver(request_signals.update_failure_response)
def echo_request_id_on_failure(
    sender: Any, request: HttpRequest, response: HttpResponse, **kwargs: Any
) -> None:
    _echo(request, response)


def _echo(request: HttpRequest, response: HttpResponse) -> None:
    request_id = getattr(request, "request_id", None)
    if request_id:
        response[REQUEST_ID_HEADER] = request_id


@receiver(task_signals.bind_extra_task_metadata)
def bind_task_name(sender: Any, task: Any = None, **kwargs: Any) -> None:
    if task is not None:
        structlog.contextvars.bind_contextvars(task_name=task.name)
