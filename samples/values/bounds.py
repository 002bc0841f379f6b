"""The range LabTrack accepts for every time and number it is given, whatever the door (a page's
form, the REST API, a CSV import, an HL7 message): one place, so each door refuses the same
values with the same words.

Times: a zone offset of at most ±14:00 (the widest in use on Earth); not before ``EARLIEST``
(2000-01-01 UTC); not more than ``CLOCK_SKEW_MINUTES`` (a setting, default 5) ahead of the
server's clock. The database refuses what lies before ``EARLIEST`` or from ``LATEST`` on too
(CHECK constraints on the time columns), so a time that no page can show can never be stored,
whoever writes it.

A measurement time is an instrument's clock speaking, not a person's entry: within what can be
stored it is taken even when it cannot be right (before its sample's collection, or ahead of
the server's clock, each by more than that tolerance). The result is recorded and flagged for
the reviewer (``measured_doubt``), so neither a wrong clock nor a mistyped collection time
loses a result or releases one unseen.

Numbers: ASCII only. An optional sign, digits 0 to 9, at most one decimal point (or, typed by a
person, a decimal comma: ``samples.values.numbers``); no exponent, no thousands separator, no
underscore (``1_000``), no superscript or other script's digits (``²``, ``٣``), no ``NaN`` or
``Infinity``. A result holds at most 10 digits before the point and 4 after, and is negative
only when its assay says it can be (``Assay.can_be_negative``).

Nothing here writes; each check returns the value it accepted or raises ``LabError`` naming the
field.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils import timezone

from samples.errors import LabError

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # also in the CHECK constraints of the models
# The database's bound ahead (the services refuse anything ahead of the server's clock): far
# past any real time, well within what Python can read back, so no unreadable year is stored.
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=14)  # either way; UTC+14:00 (Line Islands) is the widest in use
RESULT_INTEGER_DIGITS = 10  # Result.value: 14 digits, 4 of them after the point
RESULT_DECIMAL_PLACES = 4
RESULT_LIMIT = Decimal(10) ** RESULT_INTEGER_DIGITS

ACCEPTED_NUMBER = "digits 0 to 9 with at most one decimal point, like 4.9 or -0.5"
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_WHOLE = re.compile(r"[0-9]{1,18}", re.ASCII)  # 18 digits: within a bigint


def clock_skew() -> timedelta:
    """How far ahead of the server's clock a time may be (another machine's clock)."""
    return timedelta(minutes=settings.CLOCK_SKEW_MINUTES)


def whole_number(text: str | None) -> int | None:
    """``text`` as a whole number of 1 to 18 ASCII digits 0 to 9 (spaces around allowed), else
    None. ``str.isdigit`` and ``int`` also take "²" or "٣": this never does."""
    stripped = (text or "").strip()
    return int(stripped) if _WHOLE.fullmatch(stripped) else None


def number(text: Any, *, field: str = "value") -> Decimal:
    """A number written in ASCII (``ACCEPTED_NUMBER``), finite, or ``LabError`` saying what is
    accepted. A decimal comma must already be a point (``samples.values.numbers.decimal_point``)."""
    written = str(text).strip()
    if not _NUMBER.fullmatch(written):
        shown = written if len(written) <= 40 else written[:40] + "…"
        raise LabError(
            f"{shown!r} is not a number. Write {ACCEPTED_NUMBER} (no exponent, no thousands "
            "separator, no other digits than 0 to 9).",
            field=field,
        )
    try:
        return Decimal(written)
    except InvalidOperation:  # the pattern above leaves nothing Decimal refuses; said anyway
        raise LabError(f"{written!r} is not a number.", field=field) from None


def result_value(value: Decimal, *, assay: Any = None, field: str = "value") -> Decimal:
    """A result's value within what a result can be: at most ``RESULT_INTEGER_DIGITS`` digits
    before the point and ``RESULT_DECIMAL_PLACES`` after (never rounded unseen), and not
    negative unless ``assay`` can be."""
    if not value.is_finite() or abs(value) >= RESULT_LIMIT:
        raise LabError(
            f"{value} is beyond what a result can be: at most {RESULT_INTEGER_DIGITS} digits "
            "before the decimal point.",
            field=field,
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > RESULT_DECIMAL_PLACES:
        raise LabError(
            f"{value} has more than {RESULT_DECIMAL_PLACES} decimals: round it as the "
            "instrument reports it.",
            field=field,
        )
    if assay is not None and value < 0 and not assay.can_be_negative:
        raise LabError(
            f"{value} is negative: a {assay.code} result cannot be below 0.", field=field
        )
    return value + 0  # "-0" is 0


def moment(when: datetime | None, *, field: str, what: str, ahead_taken: bool = False) -> datetime:
    """A time someone gave (``what``: "the collection time"...), within the accepted range, or
    ``LabError`` on ``field`` saying which bound it passes. ``ahead_taken``: a time ahead of the
    server's clock is taken, up to ``LATEST`` (an instrument's clock: ``measured``)."""
    if when is None or timezone.is_naive(when):
        raise LabError(f"{_capital(what)} needs a date, a time and a time zone.", field=field)
    offset = when.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise LabError(
            f"{_capital(what)} has the time zone offset {_offset_text(offset)}: offsets run "
            "from -14:00 to +14:00.",
            field=field,
        )
    try:
        utc: datetime | None = when.astimezone(UTC)
    except OverflowError:  # the year 1 ahead of UTC, or 9999 behind it: off the calendar
        utc = None
    if (utc is None and when.year < EARLIEST.year) or (utc is not None and utc < EARLIEST):
        raise LabError(
            f"{_capital(what)} is before {EARLIEST:%d %b %Y}: LabTrack takes times from "
            f"{EARLIEST:%Y-%m-%d} on.",
            field=field,
        )
    if ahead_taken and (utc is None or utc >= LATEST):
        raise LabError(
            f"{_capital(what)} is in the future, on or after {LATEST:%d %b %Y}: no clock is "
            "that far ahead, and LabTrack stores no time from then on.",
            field=field,
        )
    if not ahead_taken and (utc is None or utc > timezone.now() + clock_skew()):
        raise LabError(f"{_capital(what)} is in the future.", field=field)
    return when


def ascii_time(text: str, *, field: str, what: str) -> str:
    """``text`` if written in ASCII: a time's digits are 0 to 9 (Python and Django would also
    read other scripts' digits)."""
    if not text.isascii():
        raise LabError(
            f"{_capital(what)} is written with characters other than ASCII: write it with the "
            "digits 0 to 9, like 2026-11-25T08:30.",
            field=field,
        )
    return text


def moment_text(text: str, *, field: str, what: str) -> datetime:
    """An ISO 8601 time typed or sent as text (``2026-11-25T08:30``; without a zone it is the
    lab's local time), within the accepted range."""
    ascii_time(text or "", field=field, what=what)
    try:
        when = datetime.fromisoformat((text or "").strip())
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise LabError(f"{shown!r} is not a time like 2026-11-25T08:30.", field=field) from None
    if timezone.is_naive(when):
        try:
            when = timezone.make_aware(when)
        except (OverflowError, ValueError):
            when = when.replace(tzinfo=UTC)  # at the ends of the calendar: refused below
    return moment(when, field=field, what=what)


MEASURED_BEFORE_COLLECTION = (
    "measured before the sample's collection: the instrument's clock, or the collection time "
    "registered, is wrong"
)
MEASURED_AHEAD = "measured later than it was received: the instrument's clock is ahead"


def measured(when: datetime, *, field: str = "measured_at") -> datetime:
    """A measurement time an instrument sent, within what can be stored: an offset within
    ±14:00, from ``EARLIEST``, before ``LATEST``. Ahead of the server's clock, or before the
    sample's collection, it is taken all the same, and the result flagged (``measured_doubt``)."""
    return moment(when, field=field, what="the measurement time", ahead_taken=True)


def measured_doubt(when: datetime, *, collected: datetime, recorded: datetime) -> str:
    """Why a result's measurement time cannot be right, in words for the reviewer ("" when it
    can): before its sample's collection, or later than the result was recorded, each by more
    than ``CLOCK_SKEW_MINUTES`` (the setting as it is now)."""
    if when < collected - clock_skew():
        return MEASURED_BEFORE_COLLECTION
    if when > recorded + clock_skew():
        return MEASURED_AHEAD
    return ""


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _offset_text(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
