"""WSGI entry point (gunicorn labtrack.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
application = get_wsgi_application()
