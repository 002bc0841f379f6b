"""A sample import reads its file's separator from the header line: a spreadsheet saved as CSV
in a locale whose decimal separator is a comma writes semicolons; a tab-separated export is
read too. A field in quotes keeps the separators it holds."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from samples.models import Sample
from samples.services.imports import header_delimiter
from tests.samples.jobs import job_followed


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [
        ("barcode,specimen_type,subject_ref,collected_at,priority,assays", ","),
        ("barcode;specimen_type;subject_ref;collected_at;priority;assays", ";"),
        ("barcode\tspecimen_type\tsubject_ref\tcollected_at\tpriority\tassays", "\t"),
        ('"barcode";"specimen_type";"subject_ref, first";"collected_at";"priority";"x"', ";"),
        ('barcode,"a;b;c;d;e;f;g",x', ","),  # separators inside quotes do not count
        ("barcode", ","),
    ],
)
def test_the_separator_is_the_one_the_header_line_uses(header, delimiter):
    assert header_delimiter(header + "\nS-1;serum;a,b;c\n") == delimiter


def test_a_semicolon_separated_file_registers_its_rows(lab, signed_in):
    text = (
        "\ufeffbarcode;specimen_type;subject_ref;collected_at;priority;assays\r\n"
        'S-000891;serum;"Dupont, Marie; 3,5 y";2026-01-05T08:30;;"GLU"\r\n'
        "S-000892;plasma;SUBJ-2;2026-01-05T09:00;urgent;GLU\r\n"
        "S-000893;serum;SUBJ-3;yesterday;;GLU\r\n"
    )
    client = signed_in(lab.technician)
    upload = SimpleUploadedFile("samples.csv", text.encode(), "text/csv")
    _, body = job_followed(client, lab.env, client.post("/samples/import/", {"file": upload}))
    assert "missing" not in body
    assert "2 sample(s) registered, 1 row(s) refused." in body
    assert "is not a time" in body
    first = Sample.objects.get(barcode="S-000891")
    assert first.subject_ref == "Dupont, Marie; 3,5 y"
    assert [a.code for a in first.assays.all()] == ["GLU"]
    assert Sample.objects.get(barcode="S-000892").priority == "urgent"


def test_a_tab_separated_file_registers_its_rows(lab, signed_in):
    text = (
        "barcode\tspecimen_type\tsubject_ref\tcollected_at\tpriority\tassays\n"
        "S-000894\tserum\tSUBJ-4\t2026-01-05T08:30\t\tGLU\n"
    )
    client = signed_in(lab.technician)
    upload = SimpleUploadedFile("samples.tsv", text.encode(), "text/csv")
    _, body = job_followed(client, lab.env, client.post("/samples/import/", {"file": upload}))
    assert "1 sample(s) registered, 0 row(s) refused." in body
    assert Sample.objects.filter(barcode="S-000894").exists()


def test_a_file_with_another_separator_is_refused_naming_the_separators_read(lab, signed_in):
    text = "barcode|specimen_type|subject_ref|collected_at|priority|assays\nS-1|serum|x|y||GLU\n"
    client = signed_in(lab.technician)
    upload = SimpleUploadedFile("samples.csv", text.encode(), "text/csv")
    response = client.post("/samples/import/", {"file": upload})
    assert response.status_code == 400
    assert "(separated by commas, semicolons or tabs)" in response.content.decode()
    assert not Sample.objects.exists()
