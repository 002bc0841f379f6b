"""The Celery application (``celery -A labtrack worker`` / ``beat``): configuration only."""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")

app = Celery("labtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def database_connections_as_for_a_request(**kwargs: Any) -> None:
    """Like Django around a request: drop a connection that is broken or past its age; with
    ``CONN_HEALTH_CHECKS`` the next query checks a kept one first (a restarted PostgreSQL)."""
    from django.db import close_old_connections

    close_old_connections()
