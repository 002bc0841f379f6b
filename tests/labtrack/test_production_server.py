"""Long work through the production web server, started as docker-compose's ``web`` service
starts it (its command, gunicorn with ``labtrack.gunicorn_conf``, ``DEBUG=false``), with real
Celery workers on the test database:

- a 3,000-row CSV import answers at once and is done by the workers, one of which is killed
  mid-way: every line is reported once, registered or refused with its reason;
- a 300,000-entry audit trail is exported as JSON, streamed, complete with its manifest, although
  it takes longer than the server's 30-second worker timeout.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import time

import pytest

from samples.models import Job, Sample
from samples.selectors.audit import AuditFilter, audit_count
from tests.audit_volume import seed_trail
from tests.samples.lab import make_assay
from tests.web import production_web, signed_in
from tests.workers import Worker, redis_client, wait_until, worker_broker_url
from workflows import executor

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 3000
JOB_STEP_TIMEOUT = "10"  # a killed worker's part is handed on 15 s later


@pytest.fixture
def web(tmp_path):
    """The web service as compose runs it, on a free port of this machine."""
    # Shorter than the export below takes: the answer must outlive the worker timeout.
    with production_web(tmp_path, WEB_TIMEOUT=os.environ.get("TEST_WEB_TIMEOUT", "5")) as url:
        yield url


@pytest.fixture
def workers(tmp_path):
    redis_client(worker_broker_url()).flushdb()
    started: list[Worker] = []

    def start_worker() -> Worker:
        env = {"JOB_STEP_TIMEOUT_SECONDS": JOB_STEP_TIMEOUT}
        worker = Worker(log=tmp_path / "worker.log", env=env).start()
        started.append(worker)
        return worker

    yield start_worker
    for worker in started:
        worker.stop()


def import_file() -> tuple[bytes, dict[int, str]]:
    """3,000 rows as a spreadsheet exports them: names in several scripts, lower-case barcodes,
    times with and without a zone, and some rows that must be refused (line -> why)."""
    names = ["Łukasz", "Ελένη", "王芳", "Zoë", "O'Brien, Seán"]
    out, refused = io.StringIO(), {}
    writer = csv.writer(out)
    writer.writerow(
        ["barcode", "specimen_type", "subject_ref", "collected_at", "priority", "assays"]
    )
    for n in range(1, ROWS + 1):
        line = n + 1
        barcode, assays, when = f"p-{n:06d}", "GLU", "2026-11-30T08:30"
        if n % 250 == 0:
            barcode, refused[line] = f"p-{n - 1:06d}", "already registered"  # a reused id
        elif n % 250 == 1 and n > 1:
            assays, refused[line] = "GLU;XYZ", "XYZ"
        elif n % 3 == 0:
            when = "2026-11-30T09:30+01:00"
        writer.writerow([barcode, "serum", f"{names[n % len(names)]} {n}", when, "", assays])
    return ("\ufeff" + out.getvalue()).encode(), refused


def test_a_3000_row_import_survives_a_lost_worker_and_reports_every_line(web, workers, technician):
    make_assay()
    first = workers()
    bench = signed_in(web, technician.username)
    content, refused = import_file()
    asked = bench.post(
        f"{web}/samples/import/",
        files={"file": ("samples.csv", content, "text/csv")},
        data={"csrfmiddlewaretoken": bench.cookies["csrftoken"]},
        headers={"Referer": f"{web}/samples/import/"},
        allow_redirects=False,
    )
    assert asked.status_code == 302, asked.text[:500]
    job_page = f"{web}{asked.headers['Location']}"
    job = Job.objects.get(pk=int(re.fullmatch(r".*/jobs/(\d+)/", job_page)[1]))

    wait_until(lambda: Job.objects.get(pk=job.pk).done >= 400, seconds=300, every=0.5)
    first.kill()  # SIGKILL mid-import: the part under way is lost with its worker
    assert not Job.objects.get(pk=job.pk).finished
    workers()
    wait_until(
        lambda: Job.objects.get(pk=job.pk).finished, seconds=900, every=1, also=executor.sweep
    )

    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("done", ROWS, ROWS)
    registered = ROWS - len(refused)
    page = bench.get(job_page).text
    assert f"{registered} sample(s) registered, {len(refused)} row(s) refused." in page
    report = bench.get(f"{job_page}report.csv")
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))[1:]
    assert [int(row[0]) for row in lines] == list(range(2, ROWS + 2))  # each line, once
    for line, barcode, error in lines:
        if int(line) in refused:
            assert not barcode and refused[int(line)] in error, (line, error)
        else:
            assert barcode == f"P-{int(line) - 1:06d}" and not error, (line, error)
    assert Sample.objects.count() == registered
    assert Sample.objects.get(barcode="P-000001").subject_ref == "Ελένη 1"  # as written
    assert Sample.objects.get(barcode="P-000002").subject_ref == "王芳 2"


@pytest.mark.histories_not_replayed("30,000 lifecycles seeded in bulk by SQL, not by the engine")
def test_a_300k_entry_trail_is_exported_whole_through_the_production_server(
    web, compliance_officer, technician, reviewer
):
    seed_trail(runs=30_000, samples=100, technician=technician, reviewer=reviewer)
    office = signed_in(web, compliance_officer.username)  # a sign-in is an entry of the trail too
    expected = audit_count(AuditFilter())
    assert expected >= 300_000
    started = time.monotonic()
    with office.get(f"{web}/audit/export.json", stream=True, timeout=600) as answer:
        assert answer.status_code == 200
        content = b"".join(answer.iter_content(chunk_size=1 << 20))
    took = time.monotonic() - started
    head, tail = content.rsplit(b',"manifest":', 1)
    manifest = json.loads(tail[:-1])
    assert manifest["rows"] == expected
    assert manifest["sha256"] == hashlib.sha256(head).hexdigest()
    assert len(json.loads(content)["entries"]) == expected
    print(f"exported {expected} entries in {took:.1f} s")  # longer than WEB_TIMEOUT here
