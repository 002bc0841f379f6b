"""Registering samples by form and by CSV file: valid rows go in, every refusal is explained."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from samples.models import Sample

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
    response = client.post("/samples/import/", {"file": upload})
    body = response.content.decode()
    assert response.status_code == 200
    assert "2 sample(s) registered, 3 row(s) refused." in body
    assert "Unknown specimen type" in body and "is not a time" in body and "XYZ" in body
    assert sorted(Sample.objects.values_list("barcode", flat=True)) == ["S-000401", "S-000405"]
    assert Sample.objects.get(barcode="S-000405").priority == "urgent"


def test_a_file_without_the_columns_or_not_in_utf8_is_refused_whole(lab, signed_in):
    client = signed_in(lab.technician)
    wrong = SimpleUploadedFile("a.csv", b"code,name\nS-1,x\n", "text/csv")
    response = client.post("/samples/import/", {"file": wrong})
    assert response.status_code == 400 and "missing: barcode" in response.content.decode()
    latin = SimpleUploadedFile(
        "b.csv", (HEADER + "S-000501,serum,Sj\xf6,2026-01-05,,GLU\n").encode("latin-1"), "text/csv"
    )
    response = client.post("/samples/import/", {"file": latin})
    assert response.status_code == 400 and "not UTF-8" in response.content.decode()
    assert not Sample.objects.exists()


def test_only_technicians_register(lab, signed_in):
    client = signed_in(lab.reviewer)
    assert client.get("/samples/new/").status_code == 403
    assert client.post("/samples/new/", form_data()).status_code == 403
    assert not Sample.objects.exists()
