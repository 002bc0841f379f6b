"""WSGI entry point (gunicorn labtrack.wsgi:application)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
application = get_wsgi_application()

# What is loaded by now (Django, the apps, their modules) lives as long as the process: kept
# out of the garbage collector's full passes, which would otherwise walk it again and again
# while a long request (an audit export of a million entries) makes and drops objects.
gc.freeze()
