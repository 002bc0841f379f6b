"""Celery beat keeps its schedule in UTC whatever TIME_ZONE says: the nightly check of the audit
trail runs at AUDIT_CHECK_HOUR:30 UTC, as documented, not at that hour on the lab's clock. The
audit trail's chain heads are anchored every AUDIT_ANCHOR_MINUTES."""

import json
import os
import subprocess
import sys

from tests.processes import REPO

NEXT_CHECK = """
import json
from datetime import UTC, datetime
import django
django.setup()
from celery.schedules import maybe_schedule
from django.conf import settings
from labtrack.celery import app
schedule = maybe_schedule(app.conf.beat_schedule["audit-check-nightly"]["schedule"], app=app)
last_run = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
last_run_in_zone, wait, _ = schedule.remaining_delta(last_run, tz=schedule.tz)
print(json.dumps({
    "celery_timezone": settings.CELERY_TIMEZONE,
    "schedule_zone": str(schedule.tz),
    "next_run": (last_run_in_zone + wait).astimezone(UTC).isoformat(),
}))
"""


def test_beat_runs_the_nightly_chain_check_at_half_past_two_utc_in_a_berlin_lab():
    env = dict(os.environ, TIME_ZONE="Europe/Berlin", AUDIT_CHECK_HOUR="2")
    result = subprocess.run(
        [sys.executable, "-c", NEXT_CHECK],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["celery_timezone"] == "UTC"
    assert loaded["schedule_zone"] == "UTC"
    assert loaded["next_run"] == "2026-12-02T02:30:00+00:00"


ANCHOR_ENTRY = """
import json
import django
django.setup()
from celery.schedules import maybe_schedule
from labtrack.celery import app
entry = app.conf.beat_schedule["audit-anchor"]
schedule = maybe_schedule(entry["schedule"], app=app)
print(json.dumps({"task": entry["task"], "seconds": schedule.run_every.total_seconds()}))
"""


def beat_anchor_entry(minutes: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "AUDIT_ANCHOR_MINUTES"}
    if minutes is not None:
        env["AUDIT_ANCHOR_MINUTES"] = minutes
    result = subprocess.run(
        [sys.executable, "-c", ANCHOR_ENTRY],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_beat_anchors_the_audit_trail_every_hour_unless_told_otherwise():
    assert beat_anchor_entry(None) == {"task": "samples.audit_anchor", "seconds": 3600.0}
    assert beat_anchor_entry("15") == {"task": "samples.audit_anchor", "seconds": 900.0}
