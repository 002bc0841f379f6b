"""``make bench``: results accepted per second through ``POST /api/v1/results/`` with token
authentication, one result per request and 50 per request (target: at least 300 results/s on
this 2-core machine). Prints figures; asserts nothing.

The samples wait in a running batch, each with its lifecycle run, inserted in bulk in the
bench's own database. Measured twice: by one client in process (the whole Django stack: token
check, throttle, validation, matching, the signals to each sample's and the batch's workflow,
one request at a time), and over HTTP against gunicorn with the production setting of three
workers, posted by several clients at once, as instruments do. Each beside its baseline: the
same requests answered by the same stack after the token check, throttle and validation, with
nothing recorded (``intake_baseline_urls.py``), the floor under any way of recording.
With ``BENCH_SIZE=small`` (``make bench-smoke``): 30 single results and two posts of 50.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from django.test import override_settings

from tests.bench.common import empty_database, prepare_environment, run, sized, title

SINGLE = sized(600, 30)  # results posted one per request
BASELINE_URLS = "tests.bench.intake_baseline_urls"
BASELINE_SETTINGS = "tests.bench.intake_baseline_settings"
BATCHED = 50  # results per request in the batched posts
BATCHES = sized(20, 2)  # batched posts
WEB_WORKERS = 3  # as in docker-compose.yml
CLIENTS = 6


def main() -> int:
    prepare_environment()
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from labtrack.celery import app
    from tests.workers import redis_client, worker_broker_url

    # The doorbells the results ring go to the bench's own Redis db, emptied afterwards.
    app.conf.broker_url = settings.CELERY_BROKER_URL = worker_broker_url()
    call_command("migrate", verbosity=0)
    total = SINGLE + BATCHED * BATCHES
    token, barcodes = seed(2 * total)
    single = measure(token, barcodes[:SINGLE], per_request=1)
    batched = measure(token, barcodes[SINGLE:total], per_request=BATCHED)
    with override_settings(ROOT_URLCONF=BASELINE_URLS):
        floor_single = measure(token, barcodes[:SINGLE], per_request=1)
        floor_batched = measure(token, barcodes[SINGLE:total], per_request=BATCHED)
    with web_server() as base_url:
        served_single = measure_served(base_url, token, barcodes[total : total + SINGLE], 1)
        served_batched = measure_served(base_url, token, barcodes[total + SINGLE :], BATCHED)
    with web_server(settings_module=BASELINE_SETTINGS) as base_url:
        floor_served_single = measure_served(base_url, token, barcodes[:SINGLE], 1)
        floor_served_batched = measure_served(base_url, token, barcodes[SINGLE:total], BATCHED)
    redis_client(worker_broker_url()).flushdb()
    heading = "5. Results accepted through POST /api/v1/results/ (token auth; target: 300/s)"
    print("\n" + title(heading))
    print("   baseline: the same request answered after token check, throttle and validation,")
    print("   recording nothing (tests/bench/intake_baseline_urls.py)")
    served = f"gunicorn x{WEB_WORKERS}, {CLIENTS} clients"
    print(f"                   one client, in process       {served}")
    print("                   recorded  baseline  ratio    recorded  baseline  ratio")
    for label, rates in (
        ("1 per request ", (single, floor_single, served_single, floor_served_single)),
        (f"{BATCHED} per request", (batched, floor_batched, served_batched, floor_served_batched)),
    ):
        done, floor, served, served_floor = rates
        print(
            f"   {label}  {done:6.0f}/s  {floor:6.0f}/s  {done / floor:4.2f}x"
            f"   {served:6.0f}/s  {served_floor:6.0f}/s  {served / served_floor:4.2f}x"
        )
    return 0


def seed(count: int) -> tuple[str, list[str]]:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from samples.models import Assay, Batch, BatchMember, Sample
    from samples.roles import ensure_role_groups
    from samples.services import instrument_register
    from samples.services.tokens import api_token_create

    ensure_role_groups()
    empty_database()
    user, _ = get_user_model().objects.get_or_create(username="bench-registrar")
    assay, _ = Assay.objects.update_or_create(
        code="GLU", defaults={"name": "Glucose", "units": "mmol/L", "batch_capacity": count}
    )
    instrument, _ = instrument_register(
        # A new instrument each run: accounts are never deleted, so never reused.
        name=f"Bench-{uuid.uuid4().hex[:8]}",
        model="bench",
        serial=uuid.uuid4().hex,
        assay_codes=["GLU"],
    )
    token = api_token_create(owner=instrument.service_user)
    now = timezone.now()
    with transaction.atomic():
        batch = Batch.objects.create(
            assay=assay,
            capacity=count,
            opened_at=now,
            status="running",
            closed_at=now,
            run_started_at=now,
            run_id=uuid.uuid4(),
        )
        samples = Sample.objects.bulk_create(
            [
                Sample(
                    barcode=f"B-{n:06d}",
                    specimen_type="serum",
                    subject_ref=f"B{n}",
                    collected_at=now - timedelta(hours=1),
                    registered_at=now,
                    registered_by=user,
                    state_changed_at=now,
                    state="in_batch",
                    run_id=uuid.uuid4(),
                )
                for n in range(count)
            ]
        )
        Sample.assays.through.objects.bulk_create(
            [Sample.assays.through(sample_id=s.pk, assay_id=assay.pk) for s in samples]
        )
        BatchMember.objects.bulk_create(
            [
                BatchMember(batch=batch, sample=s, position=n + 1, added_at=now, join_key=f"b:{n}")
                for n, s in enumerate(samples)
            ]
        )
        with connection.cursor() as cursor:
            # Lifecycle runs waiting for their result, and the batch's run waiting for members.
            cursor.execute("""
                INSERT INTO workflows_run (id, workflow, version, args, status, waiting_for,
                    blocked_reason, needs_advance, last_seq, created_at, updated_at)
                SELECT run_id, 'bench.waiting', 1, '[]'::jsonb, 'waiting', '', '', false, 1,
                    now(), now()
                FROM samples_sample UNION ALL
                SELECT run_id, 'bench.waiting', 1, '[]'::jsonb, 'waiting', '', '', false, 1,
                    now(), now()
                FROM samples_batch""")
            cursor.execute("""
                INSERT INTO workflows_historyevent (run_id, seq, kind, data, actor, reason,
                    created_at)
                SELECT id, 1, 'run_started', '{}'::jsonb, '', '', now() FROM workflows_run""")
    with connection.cursor() as cursor:  # statistics, as a database in service has them
        cursor.execute("ANALYZE")
    return token, [s.barcode for s in samples]


def measure(token: str, barcodes: list[str], *, per_request: int) -> float:
    from django.test import Client

    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token}")
    bodies = [
        [
            {"sample": b, "assay": "GLU", "value": "5.4", "run_id": "R-1"}
            for b in barcodes[i : i + per_request]
        ]
        for i in range(0, len(barcodes), per_request)
    ]
    began = time.perf_counter()
    for body in bodies:
        response = client.post(
            "/api/v1/results/", json.dumps(body), content_type="application/json"
        )
        if response.status_code != 201:
            raise RuntimeError(
                f"the post failed: {response.status_code} {response.content[:300]!r}"
            )
    return len(barcodes) / (time.perf_counter() - began)


@contextmanager
def web_server(settings_module: str = "labtrack.settings") -> Iterator[str]:
    """gunicorn serving this database, as deployed (sync workers); its base URL."""
    from tests.processes import REPO, free_port, wait_for

    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "labtrack.wsgi:application", "--bind",
               f"127.0.0.1:{port}", "--workers", str(WEB_WORKERS)]  # fmt: skip
    from tests.workers import worker_broker_url

    # Its doorbells go to the bench's own Redis db too; no throttling of the bench's client.
    env = {
        **os.environ,
        "CELERY_BROKER_URL": worker_broker_url(),
        "API_THROTTLE_RATE": "1000000/min",
        "DJANGO_SETTINGS_MODULE": settings_module,
    }
    server = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        yield f"127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure_served(address: str, token: str, barcodes: list[str], per_request: int) -> float:
    """Results per second posted over HTTP by ``CLIENTS`` clients at once."""
    bodies = [
        json.dumps(
            [
                {"sample": b, "assay": "GLU", "value": "5.4", "run_id": "R-2"}
                for b in barcodes[i : i + per_request]
            ]
        )
        for i in range(0, len(barcodes), per_request)
    ]
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    host, port = address.split(":")

    def post_all(share: list[str]) -> None:
        for body in share:
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            connection.request("POST", "/api/v1/results/", body, headers)
            response = connection.getresponse()
            answer = response.read()
            connection.close()
            if response.status != 201:
                raise RuntimeError(f"the post failed: {response.status} {answer[:300]!r}")

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(post_all, [bodies[n::CLIENTS] for n in range(CLIENTS)]))
    return len(barcodes) / (time.perf_counter() - began)


if __name__ == "__main__":
    sys.exit(run(main, "the intake bench"))
