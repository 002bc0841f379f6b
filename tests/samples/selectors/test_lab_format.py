"""Lab values are shown as people write them: no padding zeros, no exponent notation."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from samples.templatetags.lab_format import plain_number


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("3.9000"), "3.9"),
        (Decimal("800.0000"), "800"),
        (Decimal("0.0500"), "0.05"),
        (Decimal("-2.5"), "-2.5"),
        (None, "—"),
    ],
)
def test_plain_number(value, shown):
    assert plain_number(value) == shown


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (Decimal("2.5"), Decimal("25.0"), "&lt; 2.5 or &gt; 25 mmol/L"),
        (None, Decimal("800"), "&gt; 800 mmol/L"),
        (Decimal("2.8"), None, "&lt; 2.8 mmol/L"),
        (None, None, "—"),
    ],
)
def test_critical_limits_read_as_a_sentence(low, high, shown):
    template = Template('{% include "samples/_limits.html" %}')
    html = template.render(Context({"low": low, "high": high, "units": "mmol/L"}))
    assert html.strip() == shown
