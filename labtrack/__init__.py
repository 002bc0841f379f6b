"""The LabTrack Django project: settings, URLs, the Celery app and the local service stack.

Wiring only: the lab domain lives in ``samples`` and the workflow engine in ``workflows``.
"""

from labtrack.celery import app as celery_app

__all__ = ("celery_app",)
