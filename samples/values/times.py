"""How LabTrack prints a moment for people: in UTC, always naming the zone (COMPLIANCE.md C2, C12).

One format for pages, messages and record labels: ``02 Dec 2026 09:00 UTC`` (the month as a word,
so no reader takes 02/12 for 12 February). Times are stored in UTC and printed in UTC whatever
``TIME_ZONE`` is; that setting only says how to read a time given without a zone. Templates use
the filters in ``samples/templatetags/lab_format.py``, which call these; exports and PDFs write
ISO 8601 with ``Z``. Nothing here reads the active time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# How much of the clock to print: the default is to the minute.
_CLOCKS = {
    "minutes": "%H:%M",
    "seconds": "%H:%M:%S",
    "microseconds": "%H:%M:%S.%f",
}
PRECISIONS = (*_CLOCKS, "time")


def _in_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone: LabTrack cannot tell which instant it is.")
    return moment.astimezone(UTC)


def _beyond_calendar(moment: datetime) -> bool:
    """Whether ``moment`` falls before the year 1 or after 9999 in UTC (the year 1 at +14:00):
    no such time is accepted or stored (``samples.values.bounds``), but a page printing one says so
    rather than failing."""
    try:
        _in_utc(moment)
    except OverflowError:
        return True
    return False


def utc_text(moment: datetime, precision: str = "minutes") -> str:
    """``02 Dec 2026 09:00 UTC``; ``precision`` "seconds" or "microseconds" adds those, "time"
    prints the clock alone (``09:00 UTC``, for a time next to its date)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}.")
    if _beyond_calendar(moment):
        return f"{moment.isoformat()} (outside the calendar in UTC)"
    utc = _in_utc(moment)
    if precision == "time":
        return f"{utc:%H:%M} UTC"
    clock = utc.strftime(_CLOCKS[precision])
    return f"{utc.day:02d} {_MONTHS[utc.month - 1]} {utc.year} {clock} UTC"


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with ``Z`` (``2026-12-02T09:00:00Z``), for machines: ``<time datetime>``;
    a time outside the calendar in UTC as given, with its offset."""
    if _beyond_calendar(moment):
        return moment.isoformat()
    utc = _in_utc(moment)
    return utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds").replace(
        "+00:00", "Z"
    )
