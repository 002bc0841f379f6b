"""Every time on a page is UTC and says so, whatever TIME_ZONE is (COMPLIANCE.md C2, C12): a
signature made at 09:00Z reads "09:00 UTC" in a lab set to Europe/Berlin, never "10:00 UTC"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from samples.models import Sample
from samples.templatetags.lab_format import utc_iso, utc_time
from tests.samples.views.test_review import resulted

BERLIN = "Europe/Berlin"
TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
# A clock reading on a page (09:00, 09:00:05, 09:00:05.123456) not followed by " UTC".
UNZONED_CLOCK = re.compile(r"(?>\b\d\d:\d\d(?::\d\d(?:\.\d+)?)?)(?! UTC)")


def in_berlin():
    """The lab's setting and the active zone both Europe/Berlin, as a request would see them."""
    return override_settings(TIME_ZONE=BERLIN), timezone.override(BERLIN)


def tomorrow_at_nine_utc() -> datetime:
    tomorrow = timezone.now().astimezone(UTC) + timedelta(days=1)
    return tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)


def visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_filter_prints_a_moment_in_utc_with_its_zone():
    ten_in_berlin = datetime(2026, 12, 2, 10, 0, 5, 250000, tzinfo=ZoneInfo(BERLIN))
    assert utc_time(ten_in_berlin) == "02 Dec 2026 09:00 UTC"
    assert utc_time(ten_in_berlin, "seconds") == "02 Dec 2026 09:00:05 UTC"
    assert utc_time(ten_in_berlin, "microseconds") == "02 Dec 2026 09:00:05.250000 UTC"
    assert utc_time(ten_in_berlin, "time") == "09:00 UTC"
    assert utc_iso(ten_in_berlin) == "2026-12-02T09:00:05.250000Z"
    assert utc_time(None) == "—"


def test_the_filter_refuses_a_time_without_a_zone():
    with pytest.raises(ValueError, match="no time zone"):
        utc_time(datetime(2026, 12, 2, 9, 0))


def test_a_signature_at_nine_utc_reads_nine_utc_on_the_sample_page(lab, signed_in):
    barcode = resulted(lab)
    signed_at = tomorrow_at_nine_utc()
    with time_machine.travel(signed_at, tick=False):
        lab.verify(barcode)
    settings_override, zone = in_berlin()
    with settings_override, zone:
        body = signed_in(lab.reviewer).get(f"/samples/{barcode}/").content.decode()
    signatures = re.search(r'<ul class="signatures">(.*?)</ul>', body, re.S)[1]
    assert f"{signed_at:%d %b %Y} 09:00 UTC" in signatures
    assert f'datetime="{signed_at:%Y-%m-%d}T09:00:00Z"' in signatures
    assert "10:00" not in signatures and "11:00" not in signatures


def test_every_time_on_the_sample_page_is_printed_in_utc(lab, signed_in):
    barcode = resulted(lab)
    lab.verify(barcode)
    received_at = Sample.objects.get(barcode=barcode).received_at
    settings_override, zone = in_berlin()
    with settings_override, zone:
        body = signed_in(lab.reviewer).get(f"/samples/{barcode}/").content.decode()
    text = visible_text(body)
    assert UNZONED_CLOCK.findall(text) == []
    assert utc_time(received_at) in text
    assert "Signatures" in text and "Timeline" in text


def test_a_second_receipt_names_the_first_in_utc(lab):
    lab.register("S-000702")
    lab.receive("S-000702")
    received_at = Sample.objects.get(barcode="S-000702").received_at
    settings_override, zone = in_berlin()
    with settings_override, zone:
        again = lab.receive("S-000702")
    assert f"already received at {utc_time(received_at)}." in again.message


def test_templates_print_times_only_through_the_utc_filter():
    """Django's date and time filters print the active zone's clock without naming it."""
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {line.strip()}"
        for path in TEMPLATES.rglob("*.html")
        for line in path.read_text().splitlines()
        if re.search(r"\|\s*(date|time|localtime)\b|\{%\s*localtime", line)
    ]
    assert offenders == []


def test_the_registration_form_says_on_which_clock_it_reads_the_collection_time(
    technician, signed_in
):
    settings_override, zone = in_berlin()
    with settings_override, zone:
        body = signed_in(technician).get("/samples/new/").content.decode()
    assert "Lab time (Europe/Berlin); pages show it in UTC." in body
