"""The Celery application (``celery -A labtrack worker`` / ``beat``): configuration only."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")

app = Celery("labtrack")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
