"""Background jobs at the service level: a part done twice changes nothing more, a check in
parts finds what the whole check finds, a job that cannot be done says why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from samples.models import Job, JobStatus, Sample
from samples.selectors.chains import audit_verify
from samples.services.jobs import CHECK_PARTS, job_do_part, job_plan, job_request
from samples.services.jobs import _check_joined as check_joined
from tests.samples.jobs import job_followed

pytestmark = pytest.mark.django_db

HEADER = "barcode,specimen_type,subject_ref,collected_at,priority,assays\n"


def test_an_import_part_done_twice_registers_and_reports_each_line_once(lab):
    rows = "".join(f"S-{n:06d},serum,S{n},2026-01-05T08:30,,GLU\n" for n in range(1, 6))
    again = "S-000001,serum,again,2026-01-05T08:30,,GLU\n"
    job = job_request(user=lab.technician, kind="import", upload=HEADER + rows + again)
    assert job_plan(job_id=job.pk) == 1
    job_do_part(job_id=job.pk, part=0)
    job_do_part(job_id=job.pk, part=0)  # as after a worker lost mid-part
    outcomes = list(job.rows.values_list("line", "barcode", "error"))
    assert [line for line, _, _ in outcomes] == [2, 3, 4, 5, 6, 7]
    assert [barcode for _, barcode, _ in outcomes[:5]] == [f"S-{n:06d}" for n in range(1, 6)]
    assert "S-000001 is already registered" in outcomes[5][2]  # the file's own reused id
    assert Sample.objects.count() == 5
    lab.env.run_until_idle()
    job.refresh_from_db()
    assert (job.status, job.summary) == ("done", {"registered": 5, "refused": 1})


@pytest.mark.histories_not_replayed("an event is changed around the guards on purpose")
@pytest.mark.django_db(transaction=True)
def test_the_check_in_parts_finds_what_the_whole_check_finds(
    lab, compliance_officer, rewrite_around_triggers
):
    lab.register("S-000001")
    lab.receive("S-000001")
    lab.register("S-000002")
    rewrite_around_triggers(
        "workflows_historyevent",
        "UPDATE workflows_historyevent SET reason = 'changed' WHERE id = "
        "(SELECT min(e.id) FROM workflows_historyevent e "
        " JOIN samples_sample s ON s.run_id = e.run_id WHERE s.barcode = 'S-000002')",
    )
    whole = audit_verify()
    job = job_request(user=compliance_officer, kind="verify")
    job_plan(job_id=job.pk)
    for part in range(len(CHECK_PARTS)):
        job_do_part(job_id=job.pk, part=part)
    job.refresh_from_db()
    parts = check_joined(job.summary["parts"])
    assert not whole.intact and whole.findings[0].where.startswith("sample S-000002")
    assert sorted(parts.findings, key=str) == sorted(whole.findings, key=str)
    # The job's own run began after the whole check: it is the only chain more.
    assert parts.chains == whole.chains + 1 and parts.events > whole.events


def test_a_job_that_cannot_be_done_fails_with_the_reason_on_its_page(
    lab, signed_in, compliance_officer
):
    client = signed_in(compliance_officer)
    job = job_request(user=compliance_officer, kind="audit_pdf", params={"from": "not a day"})
    lab.env.run_until_idle()
    for _ in range(2):
        lab.env.advance_time(timedelta(minutes=5))  # each retry comes due and fails too
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "ValueError" in job.error
    assert "Invalid isoformat string" in job.error
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "The job failed: ValueError" in page and "hx-trigger" not in page
    assert client.get(f"/jobs/{job.pk}/file").status_code == 404


def test_other_roles_cannot_ask_for_a_job(lab, signed_in):
    client = signed_in(lab.technician)
    assert client.post("/audit/verify/").status_code == 403
    assert client.post("/audit/export.pdf").status_code == 403
    assert not Job.objects.exists()
    _, page = job_followed(
        client,
        lab.env,
        client.post(
            "/samples/import/",
            {"file": _upload(HEADER + "S-000009,serum,S,2026-01-05T08:30,,GLU\n")},
        ),
    )
    assert "1 sample(s) registered, 0 row(s) refused." in page


def _upload(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("a.csv", text.encode(), "text/csv")
