"""Template filters for showing lab values the way people write them."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def plain_number(value: Decimal | int | float | None) -> str:
    """3.9000 -> "3.9", 800.0000 -> "800" (never "8E+2"); None -> "—"."""
    if value is None or value == "":
        return "—"
    number = Decimal(str(value)).normalize()
    return format(number, "f")
