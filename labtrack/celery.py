"""The Celery application (``celery -A labtrack worker`` / ``beat``): configuration only."""

import logging.config
import os
import time
from typing import Any

from celery import Celery
from celery.signals import setup_logging, task_prerun
from django_structlog.celery.steps import DjangoStructLogInitStep

import labtrack.log_context  # noqa: F401  (binds request and task ids to log lines)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")

app = Celery("labtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each task's id and name on every line it logs (labtrack/log_context.py).
app.steps["worker"].add(DjangoStructLogInitStep)


@setup_logging.connect
def log_as_django_does(**kwargs: Any) -> None:
    """Worker and beat log through settings.LOGGING (labtrack/logs.py) like every other
    process, instead of Celery's own handlers: LOG_LEVEL and LOG_FORMAT decide, not
    ``--loglevel``."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@task_prerun.connect
def drop_broken_or_expired_database_connections(**kwargs: Any) -> None:
    """Before each task, what Django does around a request, without its round trip per task:
    a connection that raised a database error is tested and closed if broken (a restarted
    PostgreSQL), one past DATABASE_CONN_MAX_AGE is closed; the next query reconnects."""
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        expired = conn.close_at is not None and time.monotonic() >= conn.close_at
        if conn.connection is not None and (conn.errors_occurred or expired):
            conn.close_if_unusable_or_obsolete()
