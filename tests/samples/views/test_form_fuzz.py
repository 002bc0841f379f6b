"""Hostile values in every field of every form, and in every cell of a CSV import run by a real
worker: no answer is a 5xx, a refused value gets a 4xx with its reason shown, and a refusal
writes nothing (no audited record, no workflow event): nothing is ever half written."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from axes.utils import reset as axes_reset
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import QuerySet
from rest_framework.test import APIClient

from samples.models import Job, JobStatus, Result, Sample, UnmatchedResult
from samples.services.tokens import api_token_create
from tests.cast import PASSWORD
from tests.samples.lab import make_assay
from tests.workers import Worker, redis_client, wait_until, worker_broker_url

HOSTILE = [
    "0001-01-01T00:00+14:00",
    "0001-01-01",
    "9999-12-31T23:59:59",
    "3000-01-01T00:00",
    "2026-01-05T08:30+14:01",
    "2026-01-05T08:30+15:59",
    "2026-01-05T08:30+16:00",
    "2026-01-05T08:30-23:59",
    "²",
    "4²",
    "\u0663",  # ARABIC-INDIC DIGIT THREE
    "1_000",
    "1e309",
    "NaN",
    "Infinity",
    "-0",
    "-1",
    "9" * 400,
    "x" * 10_000,
    "\u202eevil\u202c",  # right-to-left override
    "S-0\u200b00001",  # a zero-width space
    "\U0001f9ea",  # a test tube emoji
    "\u0394\u03b5\u03af\u03b3\u03bc\u03b1",  # Greek
    "\u6837\u672c",  # Chinese
    "\u0639\u064a\u0646\u0629",  # Arabic
    "=cmd|' /C calc'!A0",
    "   ",
    "",
]
EVENT_TABLES = [
    "samples_assayevent",
    "samples_instrumentevent",
    "samples_sampleevent",
    "samples_resultevent",
    "samples_unmatchedresultevent",
    "samples_retestevent",
    "samples_signatureevent",
    "samples_userevent",
    "samples_roleevent",
    "samples_tokenevent",
    "workflows_historyevent",
    "samples_report",
]
ERROR_SHOWN = ('role="alert"', "errorlist", "errornote", 'class="error"')


def half_written() -> dict[str, QuerySet]:
    """What a write stopped halfway would leave: a sample without its lifecycle or its assays,
    a result without its sample's batch."""
    return {
        "a sample without its lifecycle": Sample.objects.filter(run_id__isnull=True),
        "a sample without its assays": Sample.objects.filter(assays__isnull=True),
        "a result without its batch": Result.objects.filter(batch__isnull=True),
    }


@dataclass(frozen=True)
class Stored:
    rows: dict[str, int]  # how many rows each audited or event table holds
    half_written: list[str]  # what of half_written() exists


def stored() -> Stored:
    """What is stored, read in one statement (one round trip per attempt, not one per table
    and per check): a refusal changes no count, and nothing is ever half written."""
    checks = half_written()
    selects = [f"(SELECT count(*) FROM {table})" for table in EVENT_TABLES]
    params: list[object] = []
    for queryset in checks.values():
        sql, more = queryset.order_by().query.sql_with_params()
        selects.append(f"EXISTS ({sql})")
        params += more
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(selects), params)
        row = cursor.fetchone()
    found = row[len(EVENT_TABLES) :]
    return Stored(
        rows=dict(zip(EVENT_TABLES, row[: len(EVENT_TABLES)], strict=True)),
        half_written=[what for what, exists in zip(checks, found, strict=True) if exists],
    )


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Each case makes its cast and signs in, and a signature form checks a password hundreds
    of times: a fast hasher keeps that cheap. What is checked here is the answers and what they
    store, never how a password is hashed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Form:
    """A form of a page: where it posts, who posts it, valid values, and the fields fuzzed."""

    url: str
    user: str
    valid: dict[str, object]
    fuzzed: list[str] = field(default_factory=list)
    # Fields whose each value must be new (a barcode registered by an earlier attempt).
    fresh: Callable[[int], dict[str, object]] = lambda n: {}
    after: Callable[[], None] = lambda: None


@pytest.fixture
def scene(lab, administrator):
    """S-000701 registered; S-000702 received; S-000703 in a running batch waiting for its
    result; S-000704 resulted in the same batch; an inbox entry; a second assay's id."""
    lab.register("S-000701")
    lab.register("S-000702")
    lab.receive("S-000702")
    for barcode in ("S-000703", "S-000704"):
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    batch = lab.start_run()
    lab.post("S-000704", "5.0")
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_create(owner=lab.instrument.service_user)}"
    )
    body = {"sample": "S-404404", "assay": "GLU", "value": "4.8", "run_id": "R-9"}
    parked = client.post("/api/v1/results/", json.dumps(body), content_type="application/json")
    assert parked.status_code == 202
    return {
        "lab": lab,
        "administrator": administrator,
        "batch": batch,
        "result": Result.objects.get(sample__barcode="S-000704"),
        "entry": UnmatchedResult.objects.get(),
    }


def forms(scene) -> dict[str, Form]:
    batch, result, entry = scene["batch"], scene["result"], scene["entry"]
    return {
        "registration": Form(
            "/samples/new/",
            "technician",
            {
                "barcode": "F-000001",
                "specimen_type": "serum",
                "subject_ref": "SUBJ-1",
                "collected_at": "2026-01-05T08:30",
                "priority": "routine",
                "assays": ["GLU"],
            },
            ["barcode", "specimen_type", "subject_ref", "collected_at", "priority", "assays"],
            fresh=lambda n: {"barcode": f"F-{n:06d}"},
        ),
        "receive": Form(
            "/samples/S-000701/receive/", "technician", {"condition": "acceptable"}, ["condition"]
        ),
        "reject": Form(
            "/samples/S-000701/reject/", "technician", {"reason": "clotted"}, ["reason"]
        ),
        "result entry": Form(
            f"/batches/{batch.pk}/result/",
            "technician",
            {"barcode": "S-000703", "assay": "GLU", "value": "4.9", "reason": "analyser down"},
            ["barcode", "assay", "value", "reason"],
        ),
        "correction": Form(
            f"/samples/S-000704/results/{result.pk}/amend/",
            "technician",
            {"value": "5.1", "reason": "transcription error"},
            ["value", "reason"],
            fresh=lambda n: {"value": f"5.{n % 9000 + 1000}"},
        ),
        "condition correction": Form(
            "/samples/S-000702/condition/",
            "technician",
            {"condition": "haemolysed", "reason": "seen again"},
            ["condition", "reason"],
        ),
        "batch start": Form(
            f"/batches/{batch.pk}/start/", "technician", {"instrument": ""}, ["instrument"]
        ),
        "inbox": Form(
            f"/inbox/{entry.pk}/",
            "technician",
            {"action": "match", "barcode": "S-000703", "reason": "misread barcode"},
            ["action", "barcode", "reason"],
        ),
        "assay admin": Form(
            "/admin/samples/assay/add/",
            "administrator",
            {
                "code": "NA",
                "name": "Sodium",
                "units": "mmol/L",
                "reference_low": "135",
                "reference_high": "145",
                "critical_low": "",
                "critical_high": "",
                "batch_capacity": "96",
                "batch_close_after": "02:00:00",
                "stability_hours": "24",
                "max_retests": "2",
                "is_active": "on",
            },
            [
                "code",
                "name",
                "units",
                "reference_low",
                "reference_high",
                "critical_low",
                "critical_high",
                "can_be_negative",
                "batch_capacity",
                "batch_close_after",
                "stability_hours",
                "max_retests",
            ],
            fresh=lambda n: {"code": f"N{n}"},
        ),
        "token": Form(
            "/tokens/new/", "administrator", {"owner": "instrument:Cobas-1"}, ["owner", "replace"]
        ),
        "token revoke": Form("/tokens/revoke/", "administrator", {"key": "abcd1234"}, ["key"]),
        "review sign": Form(
            "/review/sign/",
            "reviewer",
            {"barcode": ["S-000704"], "password": PASSWORD},
            ["barcode", "password"],
            after=axes_reset,
        ),
        "review verify": Form(
            "/review/S-000704/verify/",
            "reviewer",
            {"password": "wrong"},
            ["password"],
            after=axes_reset,
        ),
        "review retest": Form(
            "/review/S-000704/retest/",
            "reviewer",
            {"assay": "GLU", "reason": "haemolysis suspected"},
            ["assay", "reason"],
        ),
    }


FORMS = ["registration", "receive", "reject", "result entry", "correction",
         "condition correction", "batch start", "inbox", "assay admin", "token", "token revoke",
         "review sign", "review verify", "review retest"]  # fmt: skip


@pytest.mark.parametrize("name", FORMS)
def test_no_hostile_value_in_any_field_of_a_form_answers_5xx_or_writes_half(scene, signed_in, name):
    form = forms(scene)[name]
    users = {
        "technician": scene["lab"].technician,
        "reviewer": scene["lab"].reviewer,
        "administrator": scene["administrator"],
    }
    client = signed_in(users[form.user])
    client.raise_request_exception = False
    attempt = 1
    before = stored()
    for fuzzed in form.fuzzed:
        for value in HOSTILE:
            attempt += 1
            data = {**form.valid, **form.fresh(attempt), fuzzed: value}
            answer = client.post(form.url, data)
            form.after()
            now = stored()  # and what the next attempt starts from: nothing writes in between
            shown = f"{name}: {fuzzed}={value[:40]!r}"
            assert answer.status_code < 500, shown
            body = answer.content.decode() if answer.status_code != 302 else ""
            if 400 <= answer.status_code < 500 or (
                name == "assay admin" and answer.status_code == 200
            ):
                assert any(marker in body for marker in ERROR_SHOWN), shown
                assert now.rows == before.rows, f"{shown} was refused but wrote"
            assert not now.half_written, f"{shown} left {now.half_written}"
            before = now
    for url in ["/samples/", "/dashboard/", "/api/v1/samples/", "/batches/", "/inbox/"]:
        assert client.get(url).status_code < 500, url


# --- a CSV import through the real job, on a real worker ----------------------------------------

COLUMNS = ["barcode", "specimen_type", "subject_ref", "collected_at", "priority", "assays"]
VALID = {"specimen_type": "serum", "subject_ref": "SUBJ", "collected_at": "2026-01-05T08:30",
         "priority": "", "assays": "GLU"}  # fmt: skip


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the worker commits what it registers
def test_hostile_csv_cells_are_refused_line_by_line_by_the_real_job_and_never_stop_it(
    technician, client, tmp_path
):
    make_assay()
    lines, expected_good = [",".join(COLUMNS)], []
    number = 0
    for column in COLUMNS:
        for value in HOSTILE:
            number += 1
            row = {"barcode": f"C-{number:06d}", **VALID, column: value}
            lines.append(",".join(_cell(row[c]) for c in COLUMNS))
    for _ in range(3):  # valid lines after every hostile one: the job goes on to them
        number += 1
        expected_good.append(f"C-{number:06d}")
        lines.append(",".join(_cell({"barcode": f"C-{number:06d}", **VALID}[c]) for c in COLUMNS))
    upload = SimpleUploadedFile("hostile.csv", ("\n".join(lines) + "\n").encode(), "text/csv")

    redis_client(worker_broker_url()).flushdb()
    worker = Worker(log=tmp_path / "worker.log").start()
    try:
        client.post("/accounts/login/", {"username": technician.username, "password": PASSWORD})
        asked = client.post("/samples/import/", {"file": upload})
        assert asked.status_code == 302, asked.content[:500]
        job = Job.objects.get()
        wait_until(
            lambda: Job.objects.filter(
                pk=job.pk, status__in=[JobStatus.DONE, JobStatus.FAILED]
            ).exists(),
            seconds=180,
            every=0.2,
        )
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    outcomes = {row.line: row for row in job.rows.all()}
    assert sorted(outcomes) == list(range(2, number + 2))  # every line has its outcome
    registered = {row.barcode for row in outcomes.values() if not row.error}
    assert set(Sample.objects.values_list("barcode", flat=True)) == registered
    assert set(expected_good) <= registered
    assert job.summary == {"registered": len(registered), "refused": number - len(registered)}
    for row in outcomes.values():
        assert row.error or row.barcode, row.line
    assert not stored().half_written
    page = client.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    for url in ["/samples/", "/dashboard/", "/api/v1/samples/", f"/jobs/{job.pk}/report.csv"]:
        assert client.get(url).status_code == 200, url
