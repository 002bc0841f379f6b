"""``GET /api/v1/inbox/``: the unmatched inbox for middleware dashboards. Each entry says why
it matched no waiting sample, the result as sent, the message it came from, its instrument,
when it arrived and how it was resolved; open entries by default, filtered by status,
instrument and time, a cursor page at a time. People of the lab see every instrument's
entries, an instrument's token its own; a hostile filter gets 400, never a 5xx."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from samples import services
from samples.models import InstrumentMessage, UnmatchedResult
from tests.samples.lab import api_for


@pytest.fixture
def second(lab):
    registered, _token = services.instrument_register(
        name="Cobas-2", model="cobas c 311", serial="C311-0002", assay_codes=["GLU"]
    )
    return registered


def post_unknown(instrument, barcode, run_id="R-1"):
    body = {"sample": barcode, "assay": "GLU", "value": "4.8", "run_id": run_id}
    response = api_for(instrument.service_user).post(
        "/api/v1/results/", json.dumps(body), content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"key-{barcode}",
    )  # fmt: skip
    assert response.status_code == 202, response.json()
    return UnmatchedResult.objects.get(barcode=barcode)


@pytest.fixture
def entries(lab, misread, second):
    """Open: the misread S-000691 (Cobas-1) and S-000692 (Cobas-2); resolved: S-000693
    (Cobas-1), discarded."""
    other = post_unknown(second, "S-000692")
    done = post_unknown(lab.instrument, "S-000693", run_id="R-2")
    services.unmatched_discard(user=lab.technician, entry_id=done.pk, reason="calibration run")
    return {"misread": misread, "other": other, "done": done}


def listed(response):
    assert response.status_code == 200, response.content
    return [entry["sample"] for entry in response.json()["results"]]


def test_the_open_entries_are_listed_oldest_first_with_why_and_their_message(lab, entries):
    response = api_for(lab.technician).get("/api/v1/inbox/")
    assert listed(response) == ["S-000691", "S-000692"]
    first = response.json()["results"][0]
    misread = entries["misread"]
    message = InstrumentMessage.objects.get(pk=misread.message_id)
    assert first == {
        "id": misread.pk,
        "why": "Unknown barcode S-000691: no sample is registered under it.",
        "instrument": "Cobas-1",
        "message": {
            "id": message.pk,
            "kind": "results",
            "door": "http",
            "received_at": first["message"]["received_at"],
            "idempotency_key": None,
            "sha256": message.sha256,
        },
        "received_at": first["received_at"],
        "sample": "S-000691",
        "assay": "GLU",
        "value": "4.8000",
        "units": "",
        "flags": [],
        "run_id": "R-9",
        "measured_at": None,
        "segment": "",
        "resolution": None,
    }
    assert first["received_at"] == misread.received_at.isoformat().replace("+00:00", "Z")


def test_resolved_entries_say_how_when_by_whom_and_why(lab, entries):
    response = api_for(lab.reviewer).get("/api/v1/inbox/", {"status": "resolved"})
    assert listed(response) == ["S-000693"]
    [entry] = response.json()["results"]
    done = UnmatchedResult.objects.get(pk=entries["done"].pk)
    assert entry["message"]["idempotency_key"] == "key-S-000693"
    assert entry["resolution"] == {
        "how": "discarded",
        "at": done.resolved_at.isoformat().replace("+00:00", "Z"),
        "by": lab.technician.get_username(),
        "reason": "calibration run",
        "result": None,
    }
    everything = api_for(lab.reviewer).get("/api/v1/inbox/", {"status": "all"})
    assert listed(everything) == ["S-000691", "S-000692", "S-000693"]


def test_a_matched_entry_names_the_result_recorded_from_it(lab, entries):
    result = services.unmatched_match(
        user=lab.technician, entry_id=entries["misread"].pk, barcode="S-000961", reason="misread"
    )
    answer = api_for(lab.technician).get("/api/v1/inbox/", {"status": "resolved"})
    assert listed(answer) == ["S-000691", "S-000693"]
    resolution = answer.json()["results"][0]["resolution"]
    assert (resolution["how"], resolution["result"]) == ("matched", result.pk)


def test_people_filter_by_instrument_and_by_time_received(lab, entries):
    client = api_for(lab.technician)
    assert listed(client.get("/api/v1/inbox/", {"instrument": "Cobas-2"})) == ["S-000692"]
    since = entries["other"].received_at
    assert listed(client.get("/api/v1/inbox/", {"since": since.isoformat()})) == ["S-000692"]
    later = (since + timedelta(seconds=1)).isoformat()
    assert listed(client.get("/api/v1/inbox/", {"since": later})) == []


def test_an_instruments_token_sees_its_own_entries_only(lab, entries, second):
    assert listed(api_for(second.service_user).get("/api/v1/inbox/")) == ["S-000692"]
    own = api_for(lab.instrument.service_user)
    assert listed(own.get("/api/v1/inbox/", {"status": "all"})) == ["S-000691", "S-000693"]
    assert listed(own.get("/api/v1/inbox/", {"instrument": "Cobas-1"})) == ["S-000691"]
    refused = own.get("/api/v1/inbox/", {"instrument": "Cobas-2"})
    assert refused.status_code == 403
    assert refused.json() == {"detail": "An instrument's token reads its own inbox entries only."}


def test_entries_come_a_page_of_100_at_a_time(lab, misread):
    now = timezone.now()
    UnmatchedResult.objects.bulk_create(
        UnmatchedResult(
            message_id=misread.message_id, instrument=lab.instrument, barcode=f"S-{n:06d}",
            assay_code="GLU", value="1", why="test", received_at=now + timedelta(seconds=n),
        )
        for n in range(1, 106)
    )  # fmt: skip
    client = api_for(lab.technician)
    page = client.get("/api/v1/inbox/").json()
    assert len(page["results"]) == 100 and page["previous"] is None
    assert page["results"][0]["sample"] == "S-000691"
    rest = client.get(page["next"]).json()
    assert [e["sample"] for e in rest["results"]] == [f"S-{n:06d}" for n in range(100, 106)]
    assert rest["next"] is None


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ({"status": "lost"}, {"status": ["Not a status: 'lost'. One of open, resolved, all."]}),
        ({"status": ""}, {"status": ["Not a status: ''. One of open, resolved, all."]}),
        ({"since": "soon"}, {"since": ["Not an ISO 8601 date and time."]}),
        ({"since": "2026-02-30T00:00"}, {"since": ["Not an ISO 8601 date and time."]}),
        ({"since": "9999-12-31T23:59:59-14:00"}, {"since": ["Not an ISO 8601 date and time."]}),
        (
            {"since": "\u0662\u0660\u0662\u0666-01-05"},
            {"since": ["Not an ISO 8601 date and time."]},
        ),
        ({"instrument": "Nobody"}, {"instrument": ["No instrument is named 'Nobody'."]}),
        ({"instrument": ""}, {"instrument": ["No instrument is named ''."]}),
    ],
)
def test_a_bad_filter_gets_400_naming_it(lab, entries, query, problem):
    answer = api_for(lab.reviewer).get("/api/v1/inbox/", query)
    assert answer.status_code == 400 and answer.json() == problem


@pytest.mark.parametrize(
    "query",
    [
        "status=" + "x" * 20000,
        "instrument=" + "\U0001f9ea" * 5000,
        "instrument=%ED%A0%80",  # a lone surrogate, as UTF-8 bytes
        "since=0001-01-01T00:00:00%2B14:00",
        "since=2026-11-25T10:00:00%2B15:59",
        "since=2026-11-25T10:00:00%2B99:00",
        "status=open&status=%FF%FE",
        "since=%00",
        "cursor=" + "A" * 5000,
    ],
)
def test_hostile_filters_are_refused_never_a_5xx(lab, entries, query):
    answer = api_for(lab.technician).get("/api/v1/inbox/?" + query)
    assert answer.status_code in (200, 400, 404), (answer.status_code, answer.content)
    assert answer["Content-Type"] == "application/json"
    if "cursor" not in query and answer.status_code != 200:
        assert answer.status_code == 400


def test_an_hl7_entry_carries_its_obx_as_received(lab):
    body = "\r".join(
        [
            "MSH|^~\\&|MW|LAB|LABTRACK|LAB|20261206100000||ORU^R01^ORU_R01|IN-1|P|2.5.1",
            "OBR|1||S-000694|CHEM",
            "OBX|1|ED|SCATTER||^AP^Octet-stream^Base64^QUJD||||||F",
            "",
        ]
    )
    client = api_for(lab.instrument.service_user)
    ack = client.post("/api/v1/hl7/", body, content_type="x-application/hl7-v2+er7")
    assert "MSA|AA|IN-1|Recorded 0 results." in ack.content.decode()
    [entry] = api_for(lab.technician).get("/api/v1/inbox/").json()["results"]
    assert entry["segment"] == "OBX|1|ED|SCATTER||^AP^Octet-stream^Base64^QUJD||||||F"
    assert entry["message"]["kind"] == "hl7" and entry["message"]["idempotency_key"] == "IN-1"
