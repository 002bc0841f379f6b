"""The request the pages receive: Django's, with what django-htmx's middleware adds
(``request.htmx``: whether htmx sent it, and from which element)."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails
