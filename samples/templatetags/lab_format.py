"""Template filters for showing lab values the way people write them, and times in UTC.

Every time on a page goes through ``utc_time`` (text) and ``utc_iso`` (the ``datetime`` attribute
of ``<time>``), never through Django's ``date`` filter, which prints the active zone's clock
without naming it (``samples/values/times.py`` holds the format).
"""

from datetime import datetime
from decimal import Decimal

from django import template

from samples.values import times

register = template.Library()


@register.filter
def plain_number(value: Decimal | int | float | None) -> str:
    """3.9000 -> "3.9", 800.0000 -> "800" (never "8E+2"); None -> "—"."""
    if value is None or value == "":
        return "—"
    number = Decimal(str(value)).normalize()
    return format(number, "f")


@register.filter
def reading(value: Decimal | str | None) -> str:
    """A result's number as ``plain_number`` shows it; an answer (text) as it is."""
    if isinstance(value, str):
        return value or "—"
    return plain_number(value)


@register.filter
def utc_time(value: datetime | None, precision: str = "minutes") -> str:
    """``{{ signed_at|utc_time }}`` -> "02 Dec 2026 09:00 UTC"; ``|utc_time:"seconds"``,
    ``:"microseconds"`` or ``:"time"`` ("09:00 UTC"); no time -> "—"."""
    if value is None or value == "":
        return "—"
    return times.utc_text(value, precision)


@register.filter
def utc_iso(value: datetime | None) -> str:
    """``<time datetime="{{ signed_at|utc_iso }}">`` -> "2026-12-02T09:00:00Z"; no time -> ""."""
    if value is None or value == "":
        return ""
    return times.utc_iso(value)
