"""A result whose measurement time cannot be right (before its sample's collection, or later
than it was received, each by more than ``CLOCK_SKEW_MINUTES``) is recorded all the same and
flagged for the reviewer: on the review page, and as ``time_flag`` in the sample's API answer.
The JSON and HL7 doors take it alike; only a time no database row can hold is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import hl7
import pytest
from django.utils import timezone

from samples import services
from samples.models import Result, UnmatchedResult
from samples.values import bounds
from tests.samples.lab import api_for

BEFORE = "measured before the sample's collection: the instrument's clock, or the collection time registered, is wrong"  # noqa: E501
AHEAD = "measured later than it was received: the instrument's clock is ahead"


def post_json(lab, measured_at: datetime):
    body = {"sample": "S-000951", "assay": "GLU", "value": "5.2", "measured_at": measured_at}
    return api_for(lab.instrument.service_user).post(
        "/api/v1/results/", json.dumps(body, default=datetime.isoformat),
        content_type="application/json",
    )  # fmt: skip


def post_hl7(lab, stamp: str):
    body = "\r".join([
        "MSH|^~\\&|MW|LAB|LABTRACK|LAB|20261125100500||ORU^R01^ORU_R01|C-1|P|2.5.1",
        "PID|1||SUBJ-1",
        "OBR|1||S-000951|CHEM",
        f"OBX|1|NM|GLU||5.2|mmol/L|||||F|||{stamp}",
    ]) + "\r"  # fmt: skip
    client = api_for(lab.instrument.service_user)
    answer = client.post("/api/v1/hl7/", body, content_type="x-application/hl7-v2+er7")
    assert answer.status_code == 200
    return hl7.parse(answer.content.decode()).segment("MSA")


def result_answer(lab):
    sample = api_for(lab.reviewer).get("/api/v1/samples/S-000951/").json()
    [result] = sample["results"]
    return result


def hl7_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def test_a_json_result_measured_before_collection_is_recorded_and_flagged(lab, running):
    two_days_ago = timezone.now() - timedelta(days=2)
    response = post_json(lab, two_days_ago)
    assert response.status_code == 201, response.json()
    lab.env.run_until_idle()
    result = Result.objects.get()
    assert result.measured_at == two_days_ago and result.time_flag == BEFORE
    assert result_answer(lab)["time_flag"] == BEFORE
    assert lab.state("S-000951") == "resulted" and not UnmatchedResult.objects.exists()


def test_an_hl7_result_dated_years_before_collection_is_recorded_and_flagged_alike(lab, running):
    msa = post_hl7(lab, "20150101")
    assert msa.extract_field(field_num=1) == "AA"
    assert msa.extract_field(field_num=3) == "Recorded 1 result."
    result = Result.objects.get()
    assert result.measured_at.year == 2015 and result.time_flag == BEFORE
    assert result_answer(lab)["time_flag"] == BEFORE


@pytest.mark.parametrize("door", ["json", "hl7"])
def test_a_result_measured_in_the_future_is_recorded_and_flagged(lab, running, door):
    in_an_hour = timezone.now() + timedelta(hours=1)
    if door == "json":
        assert post_json(lab, in_an_hour).status_code == 201
    else:
        assert post_hl7(lab, hl7_time(in_an_hour)).extract_field(field_num=1) == "AA"
    assert Result.objects.get().time_flag == AHEAD
    assert result_answer(lab)["time_flag"] == AHEAD


def test_clocks_within_the_tolerance_raise_no_flag(lab, running):
    four_minutes_ahead = timezone.now() + timedelta(minutes=4)
    assert post_json(lab, four_minutes_ahead).status_code == 201
    assert Result.objects.get().time_flag == ""
    assert result_answer(lab)["time_flag"] == ""


def test_the_tolerance_is_the_clock_skew_setting(lab, running, settings):
    post_json(lab, timezone.now() + timedelta(minutes=30))
    result = Result.objects.select_related("sample").get()
    assert result.time_flag == AHEAD
    settings.CLOCK_SKEW_MINUTES = 60
    assert result.time_flag == ""


@pytest.mark.parametrize(
    ("sent", "said"),
    [
        ("2200-01-01T00:00:00Z", "in the future, on or after 01 Jan 2200"),
        ("9999-12-31T23:59:59-14:00", "in the future"),
        ("1999-12-31T23:59:59Z", "before 01 Jan 2000"),
    ],
)
def test_a_time_no_row_can_hold_is_refused_or_kept_for_a_person(lab, running, sent, said):
    body = {"sample": "S-000951", "assay": "GLU", "value": "5.2", "measured_at": sent}
    response = api_for(lab.instrument.service_user).post(
        "/api/v1/results/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 400 and said in response.json()["measured_at"][0]
    assert not Result.objects.exists() and not UnmatchedResult.objects.exists()
    when = datetime.fromisoformat(sent) if not sent.startswith("9999") else None
    if when is not None:  # HL7: that OBX kept for a person, its time only as sent
        msa = post_hl7(lab, hl7_time(when))
        assert msa.extract_field(field_num=1) == "AA" and "unmatched inbox" in msa(3)[0]
        kept = UnmatchedResult.objects.get()
        assert said in kept.why and kept.measured_at is None and not Result.objects.exists()


def test_the_reviewer_sees_the_flag_on_the_review_page(lab, running, signed_in):
    post_json(lab, timezone.now() - timedelta(days=400))
    lab.env.run_until_idle()
    page = signed_in(lab.reviewer).get("/review/").content.decode()
    assert "⚠ Measurement time to check" in page
    assert f"⚠ {BEFORE}" in page.replace("&#x27;", "'") and "check before release" in page


def test_a_result_within_the_clocks_shows_no_flag_on_the_review_page(lab, running, signed_in):
    post_json(lab, timezone.now())
    lab.env.run_until_idle()
    page = signed_in(lab.reviewer).get("/review/").content.decode()
    assert "S-000951" in page and "Measurement time to check" not in page


def test_an_inbox_entry_with_a_doubtful_time_can_be_matched_and_is_flagged(lab, misread):
    UnmatchedResult.objects.filter(pk=misread.pk).update(
        measured_at=timezone.now() - timedelta(days=3)
    )
    result = services.unmatched_match(
        user=lab.technician, entry_id=misread.pk, barcode="S-000961", reason="misread"
    )
    assert Result.objects.get(pk=result.pk).time_flag == BEFORE


def test_measured_doubt_reads_both_bounds():
    collected = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    recorded = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

    def doubt(when):
        return bounds.measured_doubt(when, collected=collected, recorded=recorded)

    assert doubt(collected - timedelta(minutes=6)) == BEFORE
    assert doubt(collected - timedelta(minutes=4)) == ""
    assert doubt(recorded + timedelta(minutes=4)) == ""
    assert doubt(recorded + timedelta(minutes=6)) == AHEAD


def test_the_sample_page_shows_the_flag_beside_the_result(lab, running, signed_in):
    post_json(lab, timezone.now() + timedelta(days=1))
    lab.env.run_until_idle()
    page = signed_in(lab.reviewer).get("/samples/S-000951/").content.decode()
    assert f"⚠ {AHEAD}" in page.replace("&#x27;", "'")
