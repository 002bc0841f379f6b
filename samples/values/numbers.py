"""Numbers as people type them at the bench: a decimal comma is a decimal point.

"4,9" is read as 4.9. Thousands separators are not read, so a value that has both a point and
a comma ("1.234,5", "1,234.5") or more than one comma ("4,9,1") is refused with the reason:
which separator is the decimal one cannot be known, and a guess could misreport a result.
Values sent by instruments and API clients are machine text and are not read this way.
"""

from __future__ import annotations

from samples.errors import LabError


def decimal_point(text: str, *, field: str = "value") -> str:
    """``text`` with its decimal comma made a point ("4,9" -> "4.9"); anything else as it was.
    Refuses an ambiguous separator with ``LabError`` on ``field``."""
    text = text.strip()
    commas = text.count(",")
    if commas and "." in text:
        raise LabError(
            f"{text!r} has both a point and a comma: type the value with one decimal "
            "separator and no thousands separator, like 1234.5 or 1234,5.",
            field=field,
        )
    if commas > 1:
        raise LabError(
            f"{text!r} has more than one comma: type one value, with at most one decimal "
            "comma, like 4,9.",
            field=field,
        )
    return text.replace(",", ".")
