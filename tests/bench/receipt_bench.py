"""``make bench``: what the technician waits for at the scan station, in a real browser (Debian's
Chromium, driven by Playwright), from the click on "Receive" to the card showing "Received"
(target: 300 ms). Prints p50, p95 and max and their ratio to the target; asserts nothing.

Everything runs as deployed: gunicorn with ``labtrack.gunicorn_conf`` (two processes), a real
Celery worker moving the lifecycles on, PostgreSQL and Redis, in the bench's own database. Each
sample is registered (its lifecycle waiting for receipt), scanned, then received with a click;
the answer to the click comes once the lifecycle has recorded the receipt and reached its next
wait, so the time covers the signal, the worker's advance and step, and the card's rendering.
With ``BENCH_SIZE=small`` (``make bench-smoke``): 5 samples.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

from tests.bench.common import empty_database, prepare_environment, run, sized, title

SAMPLES = sized(60, 5)
TARGET = 0.300  # seconds, from the click to "Received" on the card
CHROMIUM = "/usr/bin/chromium"


def main() -> int:
    prepare_environment()
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing: install Debian's chromium (make chromium)")
    from tests.web import production_web
    from tests.workers import Worker, redis_client, worker_broker_url

    username = seed()
    redis_client(worker_broker_url()).flushdb()
    with tempfile.TemporaryDirectory() as folder:
        worker = Worker(log=Path(folder) / "worker.log").start()
        try:
            barcodes = register(SAMPLES)
            with production_web(Path(folder), BENCH_ACTION_WAIT_SECONDS="10") as url:
                timings = measure(url, username, barcodes)
        finally:
            worker.stop()
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    heading = (
        f'9. Receive click to "Received" on the card ({len(timings)} samples, Chromium, '
        "gunicorn x2, one Celery worker)"
    )
    print("\n" + title(heading))
    print(
        f"   p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   max {timings[-1] * 1000:7.1f} ms"
        f"   (target 300 ms: p50 x{p50 / TARGET:.2f}, p95 x{p95 / TARGET:.2f})"
    )
    return 0


def seed() -> str:
    from django.contrib.auth import get_user_model

    from samples.models import Assay
    from samples.roles import Role, ensure_role_groups
    from tests.cast import PASSWORD

    ensure_role_groups()
    empty_database()
    user, _ = get_user_model().objects.get_or_create(username="bench-receiver")
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(*user.groups.model.objects.filter(name=Role.TECHNICIAN.value))
    Assay.objects.get_or_create(code="GLU", defaults={"name": "Glucose", "units": "mmol/L"})
    return user.username


def register(count: int) -> list[str]:
    """``count`` samples registered, their lifecycles (moved on by the worker) waiting for
    receipt."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from samples import services
    from samples.models import Sample
    from tests.workers import wait_until
    from workflows.ops import runs_waits

    user = get_user_model().objects.get(username="bench-receiver")
    barcodes = [f"S-{n:06d}" for n in range(1, count + 1)]
    for barcode in barcodes:
        services.sample_register(
            user=user, barcode=barcode, specimen_type="serum", subject_ref=f"SUBJ-{barcode}",
            collected_at=timezone.now() - timedelta(hours=1), assays=["GLU"],
        )  # fmt: skip
    run_ids = [str(r) for r in Sample.objects.values_list("run_id", flat=True)]

    def all_waiting() -> bool:
        runs = runs_waits(run_ids).values()
        return all(any(w.name == "reception" for w in run.waits) for run in runs)

    wait_until(all_waiting, seconds=120, every=0.2)
    return barcodes


def measure(url: str, username: str, barcodes: list[str]) -> list[float]:
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's loop in this thread
    from playwright.sync_api import sync_playwright

    from tests.cast import PASSWORD

    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_context(viewport={"width": 800, "height": 1280}).new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.goto(f"{url}/scan/")
        for barcode in barcodes:
            page.locator("#barcode").fill(barcode)
            page.keyboard.press("Enter")
            card = page.locator(f"#card-{barcode}")
            receive = card.locator("button", has_text="Receive")
            receive.wait_for()
            began = time.perf_counter()
            receive.click()
            card.locator(".state-badge", has_text="Received").wait_for()
            timings.append(time.perf_counter() - began)
        browser.close()
    return timings


if __name__ == "__main__":
    sys.exit(run(main, "the receipt bench"))
