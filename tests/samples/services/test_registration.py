"""Registering samples by form and by CSV file: valid rows go in, every refusal is explained."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

from samples.models import Job, Sample
from tests.samples.jobs import job_followed
from tests.samples.quality import make_lot

HEADER = "barcode,specimen_type,subject_ref,collected_at,priority,assays\n"


def form_data(**changes):
    data = {
        "barcode": "S-000301",
        "specimen_type": "serum",
        "subject_ref": "SUBJ-1",
        "collected_at": "2026-01-05T08:30",
        "priority": "routine",
        "assays": ["GLU"],
    }
    data.update(changes)
    return data


def test_a_technician_registers_a_sample_and_lands_on_its_page(lab, signed_in):
    client = signed_in(lab.technician)
    response = client.post("/samples/new/", form_data())
    assert response.status_code == 302 and response["Location"] == "/samples/S-000301/"
    sample = Sample.objects.get()
    assert sample.run_id is not None and sample.registered_by == lab.technician
    assert [a.code for a in sample.assays.all()] == ["GLU"]


def test_a_bad_barcode_or_a_duplicate_is_refused_with_the_reason(lab, signed_in):
    client = signed_in(lab.technician)
    bad = client.post("/samples/new/", form_data(barcode="s 1"))
    assert bad.status_code == 400 and "An accession barcode is 3 to 32" in bad.content.decode()
    client.post("/samples/new/", form_data())
    again = client.post("/samples/new/", form_data())
    assert again.status_code == 400 and "S-000301 is already registered" in again.content.decode()
    assert Sample.objects.count() == 1


def test_a_control_lots_code_is_no_samples_barcode(lab, signed_in):
    """An instrument's result for a lot's code is recorded as the control's: a sample under
    that barcode would never get its results."""
    make_lot(lab.instrument, code="QC-GLU-1")
    response = signed_in(lab.technician).post("/samples/new/", form_data(barcode="qc-glu-1"))
    assert response.status_code == 400
    assert "QC-GLU-1 is the code of a control lot" in response.content.decode()
    assert not Sample.objects.exists()


def test_a_future_collection_time_is_refused(lab, signed_in):
    client = signed_in(lab.technician)
    response = client.post("/samples/new/", form_data(collected_at="2999-01-01T00:00"))
    assert response.status_code == 400 and "in the future" in response.content.decode()
    assert not Sample.objects.exists()


def test_a_csv_file_registers_the_valid_rows_and_lists_the_others(lab, signed_in):
    client = signed_in(lab.technician)
    text = HEADER + (
        "S-000401,serum,SUBJ-1,2026-01-05T08:30,,GLU\n"
        "S-000402,tears,SUBJ-2,2026-01-05T08:30,,GLU\n"
        "S-000403,plasma,SUBJ-3,yesterday,,GLU\n"
        "S-000404,plasma,SUBJ-4,2026-01-05T09:00+01:00,stat,GLU;XYZ\n"
        "S-000405,urine,SUBJ-5,2026-01-05T09:00,urgent,GLU\n"
    )
    upload = SimpleUploadedFile("samples.csv", ("\ufeff" + text).encode(), "text/csv")
    asked = client.post("/samples/import/", {"file": upload})
    assert not Sample.objects.exists()  # the workers register the rows, not the request
    job, body = job_followed(client, lab.env, asked)
    assert (job.status, job.done, job.total) == ("done", 5, 5)
    assert "2 sample(s) registered, 3 row(s) refused." in body
    assert "Unknown specimen type" in body and "is not a time" in body and "XYZ" in body
    assert sorted(Sample.objects.values_list("barcode", flat=True)) == ["S-000401", "S-000405"]
    assert Sample.objects.get(barcode="S-000405").priority == "urgent"
    report = client.get(f"/jobs/{job.pk}/report.csv").content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(report)))
    assert [row[:2] for row in lines] == [
        ["line", "barcode"], ["2", "S-000401"], ["3", ""], ["4", ""], ["5", ""], ["6", "S-000405"]
    ]  # fmt: skip
    assert all(row[2] for row in lines[2:5]) and not lines[5][2]


def test_a_file_refused_whole_is_refused_on_the_form_and_changes_nothing(lab, signed_in):
    client = signed_in(lab.technician)
    row = "S-000501,serum,SUBJ,2026-01-05T08:30,,GLU\n"
    refusals = {
        "missing: barcode": b"code,name\nS-1,x\n",
        "not UTF-8": (HEADER + "S-000501,serum,Sj\xf6,2026-01-05,,GLU\n").encode("latin-1"),
        "Line 2 holds a NUL byte": (HEADER + row.replace("SUBJ", "SU\x00BJ")).encode(),
        "holds no rows": HEADER.encode(),
        "at most 5000 at a time": (HEADER + row * 5001).encode(),
    }
    for said, content in refusals.items():
        response = client.post("/samples/import/", {"file": SimpleUploadedFile("a.csv", content)})
        assert response.status_code == 400 and said in response.content.decode(), said
    assert not Sample.objects.exists() and not Job.objects.exists()


def test_a_job_is_shown_only_to_the_person_who_asked(lab, signed_in, second_technician):
    client = signed_in(lab.technician)
    upload = SimpleUploadedFile("s.csv", (HEADER + "S-000601,serum,S,2026-01-05,,GLU\n").encode())
    job, _ = job_followed(client, lab.env, client.post("/samples/import/", {"file": upload}))
    assert job.requested_by == lab.technician
    client.logout()
    other = signed_in(second_technician)
    for path in (f"/jobs/{job.pk}/", f"/jobs/{job.pk}/report.csv", f"/jobs/{job.pk}/file"):
        assert other.get(path).status_code == 404, path
    assert b"no job yet" in other.get("/jobs/").content


def test_only_technicians_register(lab, signed_in):
    client = signed_in(lab.reviewer)
    assert client.get("/samples/new/").status_code == 403
    assert client.post("/samples/new/", form_data()).status_code == 403
    assert not Sample.objects.exists()
