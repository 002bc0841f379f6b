"""``make bench``: the audit trail exported as CSV through the Django stack, with a million
entries in the database (targets: over 50,000 rows/s, memory of the web process growing by
under 100 MB); then the anchor of every chain head written and checked against the database.
Prints figures; asserts nothing beyond the anchor matching the untouched trail.

The trail is seeded in bulk in the bench's own database (``tests.audit_volume``): 99,000
completed sample lifecycles of ten history events each and 10,000 samples (their
``sample.insert`` events). The export is requested as a compliance officer does, by one
client in process (middleware, session, view, the streamed response read to its end); the
process's resident memory is sampled every 50 ms while it runs. With ``BENCH_SIZE=small``
(``make bench-smoke``): 495 lifecycles and 50 samples.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings

from tests.bench.common import empty_database, prepare_environment, run, sized, title

RUNS = sized(99_000, 495)
SAMPLES = sized(10_000, 50)
SAMPLE_EVERY = 0.05  # seconds between two readings of the resident memory


def main() -> int:
    prepare_environment()
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    officer = seed()
    seeded = time.perf_counter() - began
    rows, seconds, megabytes, grown = measure(officer)
    print("\n" + title(f"6. Audit trail export as CSV, {rows:,} rows, one client in process"))
    print(f"   (seeded in {seeded:.0f} s)")
    print(
        f"   {rows / seconds:9,.0f} rows/s   ({seconds:.1f} s, {megabytes:,.0f} MB)"
        "   (target: over 50,000 rows/s)"
    )
    print(f"   {grown:9.1f} MB peak growth of resident memory   (target: under 100 MB)")
    chains, events, written, checked, size = measure_anchor()
    print("\n" + title(f"6. Audit anchor of {chains:,} chain heads ({events:,} events)"))
    print(f"   {written:9.2f} s to write and sign it ({size / 1e6:.1f} MB)")
    print(f"   {checked:9.2f} s to check the database against it")
    return 0


def measure_anchor() -> tuple[int, int, float, float, int]:
    """The anchor of every chain head written, then the database checked against it: chains,
    events, seconds for each, the file's size."""
    import json
    import tempfile
    from pathlib import Path

    from django.conf import settings

    from samples.services.anchors import anchor_make, anchor_verify

    with tempfile.TemporaryDirectory() as folder:
        settings.AUDIT_ANCHOR_DIR = Path(folder) / "anchors"
        settings.AUDIT_ANCHOR_KEY_FILE = Path(folder) / "key.pem"
        settings.AUDIT_ANCHOR_KEY_CREATE = True
        began = time.perf_counter()
        path = anchor_make()
        written = time.perf_counter() - began
        began = time.perf_counter()
        check = anchor_verify()
        checked = time.perf_counter() - began
        if not check.intact:
            raise RuntimeError(f"the untouched trail does not match its anchor: {check.findings}")
        with path.open("rb") as anchor:
            trailer = json.loads(anchor.readlines()[-1])
        return trailer["chains"], trailer["events"], written, checked, path.stat().st_size


def seed():
    from django.contrib.auth import get_user_model
    from django.db import connection

    from samples.roles import Role, ensure_role_groups
    from tests.audit_volume import seed_trail

    ensure_role_groups()
    empty_database()  # the bench's own database: the trail holds what is seeded here
    users = get_user_model().objects
    technician, _ = users.get_or_create(username="bench-technician")
    reviewer, _ = users.get_or_create(username="bench-reviewer")
    officer, _ = users.get_or_create(username="bench-compliance")
    officer.groups.add(*officer.groups.model.objects.filter(name=Role.COMPLIANCE.value))
    seed_trail(runs=RUNS, samples=SAMPLES, technician=technician, reviewer=reviewer)
    with connection.cursor() as cursor:  # statistics, as a database in service has them
        cursor.execute("ANALYZE")
    return officer


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class Peak(threading.Thread):
    """The highest resident memory seen while the export runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = resident_mb()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(SAMPLE_EVERY):
            self.peak = max(self.peak, resident_mb())


def measure(officer) -> tuple[int, float, float, float]:
    """Rows, seconds, megabytes of CSV, and the peak growth of resident memory in MB."""
    import gc

    from django.test import Client

    import labtrack.wsgi  # noqa: F401  (the web process as served: loaded, then gc.freeze())

    client = Client(HTTP_HOST="localhost")
    client.force_login(officer)
    # A first, empty export loads what the first request of a process loads.
    b"".join(client.get("/audit/export.csv", {"sample": "NONE"}).streaming_content)
    gc.collect()
    before = resident_mb()
    peak = Peak()
    peak.start()
    began = time.perf_counter()
    response = client.get("/audit/export.csv")
    size, tail = 0, b""
    for chunk in response.streaming_content:
        size += len(chunk)
        tail = (tail + chunk)[-4096:]
    seconds = time.perf_counter() - began
    peak.done.set()
    peak.join()
    if response.status_code != 200:
        raise RuntimeError(f"the export failed: {response.status_code}")
    rows = int(tail.split(b"# rows,", 1)[1].split(b"\r\n", 1)[0])
    return rows, seconds, size / 1e6, max(peak.peak, resident_mb()) - before


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labtrack.settings")
    sys.exit(run(main, "the audit export bench"))
