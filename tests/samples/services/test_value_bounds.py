"""Every time and number has one defined range (``samples.values.bounds``), the same at every door:
a page's form, the REST API, a CSV import, an HL7 message. A value outside it is refused with a
clear 4xx saying what is accepted, and changes nothing; the database refuses a time no page can
show, so the year-1 collection time that once broke every list can no longer be stored."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone as django_timezone

from samples.errors import LabError
from samples.forms import AssayAdminForm
from samples.models import Assay, Batch, Result, Sample, UnmatchedResult
from samples.values import bounds
from samples.values.times import utc_iso, utc_text
from tests.samples.jobs import job_followed
from tests.samples.lab import api_for, make_assay
from tests.samples.services.test_registration import HEADER, form_data

LISTS = ["/samples/", "/dashboard/", "/api/v1/samples/"]
# Digits of other scripts, which Python's int(), Decimal() or str.isdigit() accept.
THREE = "\u0663"  # ARABIC-INDIC DIGIT THREE
PERSIAN_FOUR_FIVE = "\u06f4.\u06f5"  # 4.5 in EXTENDED ARABIC-INDIC digits
FULLWIDTH_12 = "\uff11\uff12"
ARABIC_INDIC_TIME = "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0665T08:30"  # 2026-01-05
ARABIC_INDIC_135 = "\u0661\u0663\u0665"
ARABIC_INDIC_TWO_HOURS = "\u0660\u0662:00:00"


# --- the one place -------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["4.9", "-0.5", "+3", "12", "0", ".5", "5.", "-0"])
def test_a_number_in_ascii_digits_is_read(written):
    assert bounds.number(written) == Decimal(written)


@pytest.mark.parametrize(
    "written",
    [
        "²",
        "4²",
        THREE,
        PERSIAN_FOUR_FIVE,
        FULLWIDTH_12,
        "1_000",
        "1e3",
        "1e309",
        "NaN",
        "Infinity",
        "-inf",
        "",
        " ",
        "4 9",
    ],
)
def test_other_digits_exponents_and_underscores_are_refused_saying_what_is_accepted(written):
    with pytest.raises(LabError) as refused:
        bounds.number(written)
    assert "digits 0 to 9 with at most one decimal point" in refused.value.message


@pytest.mark.parametrize(
    ("written", "read"),
    [("12", 12), (" 7 ", 7), ("²", None), (THREE, None), ("1_0", None), ("-1", None),
     ("9" * 19, None)],
)  # fmt: skip
def test_a_whole_number_is_ascii_digits_only(written, read):
    assert bounds.whole_number(written) == read


def test_a_result_has_ten_digits_before_the_point_four_after_and_no_sign_unless_its_assay_has(db):
    glucose, base_excess = make_assay(), make_assay("BE", units="mmol/L", can_be_negative=True)
    assert bounds.result_value(Decimal("9999999999.9999"), assay=glucose) == Decimal(
        "9999999999.9999"
    )
    assert str(bounds.result_value(Decimal("-0"), assay=glucose)) == "0"
    assert bounds.result_value(Decimal("-2.5"), assay=base_excess) == Decimal("-2.5")
    for value, said in [
        (Decimal("1e10"), "at most 10 digits before the decimal point"),
        (Decimal("4.12345"), "more than 4 decimals"),
        (Decimal("-0.1"), "a GLU result cannot be below 0"),
    ]:
        with pytest.raises(LabError) as refused:
            bounds.result_value(value, assay=glucose)
        assert said in refused.value.message


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(14 * 60, True), (-12 * 60, True), (-14 * 60, True), (14 * 60 + 1, False),
     (15 * 60 + 59, False), (16 * 60, False), (-(23 * 60 + 59), False)],
)  # fmt: skip
def test_a_time_zone_offset_is_at_most_14_hours(offset, accepted):
    zone = timezone(timedelta(minutes=offset))
    when = (django_timezone.now() - timedelta(days=2)).astimezone(zone)
    if accepted:
        assert bounds.moment(when, field="collected_at", what="the collection time") == when
    else:
        with pytest.raises(LabError) as refused:
            bounds.moment(when, field="collected_at", what="the collection time")
        assert "offsets run from -14:00 to +14:00" in refused.value.message


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("0001-01-01T00:00+14:00", "before 01 Jan 2000"),
        ("0001-01-01T00:00", "before 01 Jan 2000"),
        ("1999-12-31T23:59Z", "before 01 Jan 2000"),
        ("9999-12-31T23:59-14:00", "in the future"),
        ("3000-01-01T00:00Z", "in the future"),
        ("2026-01-05T08:30+15:59", "offsets run from -14:00 to +14:00"),
        (ARABIC_INDIC_TIME, "the digits 0 to 9"),
        ("yesterday", "is not a time like 2026-11-25T08:30"),
    ],
)
def test_a_time_outside_the_range_is_refused_saying_which_bound(text, said):
    with pytest.raises(LabError) as refused:
        bounds.moment_text(text, field="collected_at", what="the collection time")
    assert said in refused.value.message and refused.value.field == "collected_at"


def test_the_future_tolerance_is_a_setting(settings):
    ahead = django_timezone.now() + timedelta(minutes=20)
    settings.CLOCK_SKEW_MINUTES = 30
    assert bounds.moment(ahead, field="x", what="the time") == ahead
    settings.CLOCK_SKEW_MINUTES = 5
    with pytest.raises(LabError, match="in the future"):
        bounds.moment(ahead, field="x", what="the time")


def test_a_time_outside_the_calendar_in_utc_is_printed_not_a_failure():
    year_one = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))
    assert utc_text(year_one) == "0001-01-01T00:00:00+14:00 (outside the calendar in UTC)"
    assert utc_iso(year_one) == "0001-01-01T00:00:00+14:00"


# --- the database ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE samples_sample SET collected_at = '0001-01-01T00:00+14:00'",
        "UPDATE samples_sample SET collected_at = '1999-12-31T23:59Z'",
        "UPDATE samples_sample SET collected_at = '3000-01-01T00:00Z'",
        "UPDATE samples_sample SET received_at = '0001-01-01T00:00Z'",
    ],
)
def test_the_database_refuses_a_collection_time_out_of_range_whoever_writes_it(lab, sql):
    lab.register("S-000501")
    out_of_range = pytest.raises(IntegrityError, match=r"sample_(collected|received)_in_range")
    with out_of_range, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    assert Sample.objects.get().collected_at.year == django_timezone.now().year


@pytest.mark.django_db(transaction=True)  # the migration runs as the owner, on its own connection
def test_the_migration_names_rows_already_out_of_range_instead_of_changing_them(lab):
    from importlib import import_module
    from types import SimpleNamespace

    import psycopg

    from tests.database_roles import LOCK_WAIT, owner_url

    migration = import_module("samples.migrations.0020_value_bounds")
    lab.register("S-000502")
    with psycopg.connect(owner_url(), options=LOCK_WAIT) as owner:
        owner.execute("ALTER TABLE samples_sample DROP CONSTRAINT sample_collected_in_range")
        owner.execute("UPDATE samples_sample SET collected_at = '1990-01-01T00:00Z'")
        with pytest.raises(RuntimeError) as stopped:
            migration.refuse_rows_out_of_range(None, SimpleNamespace(connection=owner))
        owner.rollback()  # the constraint and the row as they were
    assert "samples_sample S-000502" in str(stopped.value)
    assert Sample.objects.get().collected_at.year != 1990


# --- the page's form ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("0001-01-01T00:00+14:00", "before 01 Jan 2000"),
        ("9999-12-31T23:59-14:00", "in the future"),
        ("3000-01-01T00:00", "in the future"),
        ("2026-01-05T08:30+16:00", "offsets run from -14:00 to +14:00"),
        ("2026-01-05T08:30-23:59", "offsets run from -14:00 to +14:00"),
        (ARABIC_INDIC_TIME, "the digits 0 to 9"),
        ("2026-01-0²T08:30", "the digits 0 to 9"),
    ],
)
def test_the_registration_form_refuses_a_collection_time_out_of_range_and_every_list_still_shows(
    lab, signed_in, typed, said
):
    lab.register("S-000500")
    client = signed_in(lab.technician)
    response = client.post("/samples/new/", form_data(collected_at=typed))
    assert response.status_code == 400 and said in response.content.decode()
    assert list(Sample.objects.values_list("barcode", flat=True)) == ["S-000500"]
    for url in LISTS:
        assert client.get(url).status_code == 200, url


def test_a_page_asked_for_a_superscript_or_other_digits_answers_without_failing(lab, signed_in):
    client = signed_in(lab.reviewer)
    for query in ["²", THREE, "1_0", "9" * 40]:
        assert client.get("/dashboard/", {"days": query}).status_code < 500
        assert client.get("/dashboard/period/", {"days": query}).status_code < 500
        runs = client.get("/workflows/runs/", {"version": query, "q": query})
        assert runs.status_code < 500
    said = client.get("/dashboard/", {"days": "²"}).content.decode()
    assert "must be a whole number of days" in said
    said = client.get("/workflows/runs/", {"waiting": THREE, "version": "²"}).content.decode()
    assert "is a number of hours" in said and "The version is a whole number" in said


# --- the API --------------------------------------------------------------------------------------


BODY = {"barcode": "S-000981", "specimen_type": "serum", "subject_ref": "SUBJ-81",
        "assays": ["GLU"]}  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "said"),
    [
        ("0001-01-01T00:00+14:00", "before 01 Jan 2000"),
        ("3000-01-01T00:00:00Z", "in the future"),
        ("2026-01-05T08:30:00+15:59", "offsets run from -14:00 to +14:00"),
        (ARABIC_INDIC_TIME + ":00Z", "the digits 0 to 9"),
    ],
)
def test_the_api_refuses_a_collection_time_out_of_range(lab, sent, said):
    client = api_for(lab.technician)
    response = client.post("/api/v1/samples/", {**BODY, "collected_at": sent}, format="json")
    assert response.status_code == 400 and said in response.json()["collected_at"][0]
    assert not Sample.objects.exists()
    assert client.get("/api/v1/samples/").status_code == 200


def post_result(lab, **item):
    client = api_for(lab.instrument.service_user)
    body = {"sample": "S-000951", "assay": "GLU", "value": "5.2", **item}
    return client.post("/api/v1/results/", json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(
    ("item", "field", "said"),
    [
        ({"value": "²"}, "value", "digits 0 to 9"),
        ({"value": THREE}, "value", "digits 0 to 9"),
        ({"value": "1_000"}, "value", "digits 0 to 9"),
        ({"value": "-1.5"}, "value", "cannot be below 0"),
        ({"value": -1.5}, "value", "cannot be below 0"),
        ({"measured_at": "3000-01-01T00:00:00Z"}, "measured_at", "in the future"),
        ({"measured_at": "0001-01-01T00:00:00+14:00"}, "measured_at", "before 01 Jan 2000"),
        ({"measured_at": "2026-01-05T08:30:00+16:00"}, "measured_at", "offsets run from"),
    ],
)
def test_the_api_refuses_a_result_out_of_range_and_records_nothing(lab, running, item, field, said):
    response = post_result(lab, **item)
    assert response.status_code == 400, response.json()
    assert said in json.dumps(response.json(), ensure_ascii=False)
    assert field in json.dumps(response.json())
    assert not Result.objects.exists() and not UnmatchedResult.objects.exists()


def test_a_negative_result_is_recorded_for_an_assay_that_can_be_negative(lab, running):
    Assay.objects.filter(code="GLU").update(can_be_negative=True)
    response = post_result(lab, value="-1.5")
    assert response.status_code == 201, response.json()
    assert Result.objects.get().value == Decimal("-1.5")


# --- hand entry, corrections, the assay admin form ------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "said"),
    [("²", "digits 0 to 9"), (THREE, "digits 0 to 9"), ("1_000", "digits 0 to 9"),
     ("-1", "cannot be below 0"), ("12345678901", "at most 10 digits"),
     ("4,12345", "more than 4 decimals")],
)  # fmt: skip
def test_hand_entry_and_correction_refuse_a_value_out_of_range(
    lab, running, signed_in, typed, said
):
    client = signed_in(lab.technician)
    batch = Batch.objects.get()
    form = {"barcode": running, "assay": "GLU", "value": typed, "reason": "analyser down"}
    entered = client.post(f"/batches/{batch.pk}/result/", form)
    assert entered.status_code == 400 and said in entered.content.decode()
    assert not Result.objects.exists()
    lab.post(running, "5.0")
    result = Result.objects.get()
    url = f"/samples/{running}/results/{result.pk}/amend/"
    corrected = client.post(url, {"value": typed, "reason": "typo"})
    assert corrected.status_code == 400 and said in corrected.content.decode()
    result.refresh_from_db()
    assert result.value == Decimal("5.0") and result.amended_at is None


def test_the_assay_admin_form_refuses_other_digits_and_a_negative_limit_of_a_positive_assay(db):
    data = {
        "code": "NA", "name": "Sodium", "units": "mmol/L", "reference_low": "135",
        "reference_high": "145", "critical_low": "", "critical_high": "",
        "batch_capacity": "96", "batch_close_after": "02:00:00", "stability_hours": "24",
        "max_retests": "2", "is_active": "on",
    }  # fmt: skip
    assert AssayAdminForm(data).is_valid()
    for name, typed in [("reference_low", ARABIC_INDIC_135), ("batch_capacity", "9_6"),
                        ("stability_hours", "²4"), ("batch_close_after", ARABIC_INDIC_TWO_HOURS),
                        ("reference_low", "-1")]:  # fmt: skip
        form = AssayAdminForm({**data, name: typed})
        assert not form.is_valid() and name in form.errors, (name, typed)
    assert AssayAdminForm({**data, "reference_low": "-1", "can_be_negative": "on"}).is_valid()


def test_the_admin_page_of_an_assay_refuses_other_digits_without_failing(
    lab, signed_in, administrator
):
    client = signed_in(administrator)
    glucose = Assay.objects.get(code="GLU")
    page = client.post(
        f"/admin/samples/assay/{glucose.pk}/change/",
        {"code": "GLU", "name": "Glucose", "units": "mmol/L", "reference_low": THREE,
         "batch_capacity": "3", "batch_close_after": "02:00:00", "stability_hours": "24",
         "max_retests": "1"},
    )  # fmt: skip
    assert page.status_code == 200 and "digits 0 to 9" in page.content.decode()
    glucose.refresh_from_db()
    assert glucose.reference_low == Decimal("3.9")


# --- the CSV import -------------------------------------------------------------------------------


def test_an_import_refuses_each_line_out_of_range_with_its_reason_and_registers_the_others(
    lab, signed_in
):
    client = signed_in(lab.technician)
    lines = [
        "S-000601,serum,S1,2026-01-05T08:30,,GLU",
        "S-000602,serum,S2,0001-01-01T00:00+14:00,,GLU",
        "S-000603,serum,S3,2026-01-05T08:30+16:00,,GLU",
        "S-000604,serum,S4,3000-01-01T00:00,,GLU",
        f"S-000605,serum,S5,{ARABIC_INDIC_TIME},,GLU",
        "S-000606,serum,S6,2026-01-05T08:30,,GLU",
    ]
    upload = _upload(HEADER + "\n".join(lines) + "\n")
    job, _ = job_followed(client, lab.env, client.post("/samples/import/", {"file": upload}))
    assert job.status == "done" and job.summary == {"registered": 2, "refused": 4}
    assert sorted(Sample.objects.values_list("barcode", flat=True)) == ["S-000601", "S-000606"]
    errors = dict(job.rows.exclude(error="").values_list("line", "error"))
    assert "before 01 Jan 2000" in errors[3] and "offsets run from" in errors[4]
    assert "in the future" in errors[5] and "digits 0 to 9" in errors[6]
    for url in LISTS:
        assert client.get(url).status_code == 200


def _upload(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("samples.csv", text.encode(), "text/csv")
