"""``POST /api/v1/hl7/``: instrument middleware posts HL7 v2 ORU^R01 messages; results are
recorded for the samples waiting for them (or kept in the unmatched inbox), the message is
stored raw, and the answer is an HL7 ACK: AA, AE (nothing recorded) or AR (rejected)."""

from __future__ import annotations

import hashlib
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import hl7
import pytest
import yaml
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from samples.models import Assay, InstrumentMessage, Result, UnmatchedResult
from samples.services.tokens import api_token_create
from tests.samples.lab import make_assay

FIXTURES = Path(__file__).parent / "fixtures"
ACK = "x-application/hl7-v2+er7"

CHEMISTRY = [
    "MSH|^~\\&|MW-CHEM|CORE-LAB|LABTRACK|CORE-LAB|20261125100500+0000||ORU^R01^ORU_R01|"
    "MW-000123|P|2.5.1|||NE|AL",
    "PID|1||SUBJ-S-000961^^^LAB^MR",
    "ORC|RE||S-000961",
    "OBR|1||S-000961^MW-CHEM|CHEM^Chemistry panel|||20261125095500+0000|||||||||||||||"
    "20261125100400+0000||CH|F",
    "OBX|1|NM|GLU^Glucose^L||6.1|mmol/L|3.9-5.6|H|||F|||20261125100200+0000||||c311^Cobas-1",
    "OBX|2|NM|CREA^Creatinine^L||52|umol/L|60-110|L~D|||F|||20261125100300+0000",
]


def message(*segments: str, end: str = "\r") -> str:
    return end.join(segments) + end


def with_obx(*obx: str, obr: str = CHEMISTRY[3], control_id: str = "MW-000200") -> str:
    header = CHEMISTRY[0].replace("MW-000123", control_id)
    return message(header, CHEMISTRY[1], obr, *obx)


# The messages above were measured on 25 Nov 2026: their sample was collected before.
COLLECTED = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def waiting(lab):
    """S-000961 ordered glucose and creatinine, collected before the messages' measurement
    times (and stable since), each in a running batch, waiting for results."""
    hours = (timezone.now() - COLLECTED) / timedelta(hours=1)
    stable = math.ceil(hours) + 48
    make_assay(
        "CREA",
        name="Creatinine",
        units="umol/L",
        reference_low=Decimal(60),
        reference_high=Decimal(110),
        critical_low=Decimal(20),
        critical_high=Decimal(900),
        stability_hours=stable,
    )
    Assay.objects.filter(code="GLU").update(stability_hours=stable)
    lab.register("S-000961", "GLU", "CREA", collected_hours_ago=hours)
    lab.receive("S-000961")
    lab.to_batch("S-000961")
    lab.close_batches()
    lab.start_run("GLU")
    lab.start_run("CREA")
    return "S-000961"


def api(token=None):
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def middleware(lab):
    return api(api_token_create(owner=lab.instrument.service_user))


def post(client, body, content_type=ACK):
    return client.post("/api/v1/hl7/", body, content_type=content_type)


def ack_of(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(ACK)
    return hl7.parse(response.content.decode())


def msa(ack):
    segment = ack.segment("MSA")
    return segment.extract_field(field_num=1), segment.extract_field(field_num=2)


def errs(ack):
    """(location, code, severity) of each ERR segment."""
    try:
        segments = ack.segments("ERR")
    except KeyError:
        return []
    return [(str(s(2)), s.extract_field(field_num=3), str(s(4))) for s in segments]


def nothing_stored():
    return not (
        Result.objects.exists()
        or UnmatchedResult.objects.exists()
        or InstrumentMessage.objects.exists()
    )


def test_a_chemistry_analyzers_results_are_recorded_and_acknowledged(lab, waiting, middleware):
    body = message(*CHEMISTRY)
    ack = ack_of(post(middleware, body))
    assert msa(ack) == ("AA", "MW-000123") and errs(ack) == []
    header = ack.segment("MSH")
    # The ACK's header swaps the sending and receiving application and facility.
    swapped = [header.extract_field(field_num=n) for n in (3, 4, 5, 6)]
    assert swapped == ["LABTRACK", "CORE-LAB", "MW-CHEM", "CORE-LAB"]
    assert str(header(9)) == "ACK^R01^ACK" and str(header(12)) == "2.5.1"
    glucose, creatinine = Result.objects.order_by("assay__code").reverse()
    assert (glucose.value, glucose.units, glucose.flags) == (Decimal("6.1"), "mmol/L", ["H"])
    assert (creatinine.units, creatinine.flags) == ("umol/L", ["L", "D"])
    assert glucose.measured_at == datetime(2026, 11, 25, 10, 2, tzinfo=UTC)
    assert glucose.instrument_run_id == "MW-000123" and glucose.instrument == lab.instrument
    stored = glucose.message
    assert stored == creatinine.message and stored.kind == "hl7"
    assert stored.body == body  # byte for byte, carriage returns and all
    assert stored.content_type == ACK and stored.idempotency_key == "MW-000123"


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_segments_may_end_in_lf_or_crlf_and_the_body_is_kept_as_sent(waiting, middleware, end):
    body = message(*CHEMISTRY, end=end)
    assert msa(ack_of(post(middleware, body, "text/plain")))[0] == "AA"
    assert Result.objects.count() == 2 and InstrumentMessage.objects.get().body == body


def test_a_resent_message_gets_the_same_ack_and_records_nothing_new(waiting, middleware):
    first = ack_of(post(middleware, message(*CHEMISTRY)))
    again = ack_of(post(middleware, message(*CHEMISTRY), "application/hl7-v2"))
    assert str(again.segment("MSA")) == str(first.segment("MSA"))
    assert msa(again) == ("AA", "MW-000123")
    assert Result.objects.count() == 2 and InstrumentMessage.objects.count() == 1


def test_the_python_hl7_documentation_example_is_kept_in_the_unmatched_inbox(lab, middleware):
    body = (FIXTURES / "python_hl7_docs_oru_r01.hl7").read_bytes().decode()
    ack = ack_of(post(middleware, body, "text/plain"))
    assert msa(ack) == ("AA", "CNTRL-3456")
    # A 2.4 message: its ACK's ERR has ERR-1 alone (segment^sequence^field^code&text&table).
    assert [str(err) for err in ack.segments("ERR")] == [
        "ERR|OBX^1^^204&Unknown key identifier&HL70357"
    ]
    assert str(ack.segment("MSH")(9)) == "ACK^R01^ACK" and str(ack.segment("MSH")(12)) == "2.4"
    assert "unmatched inbox" in ack.segment("MSA").extract_field(field_num=3)
    parked = UnmatchedResult.objects.get()
    assert (parked.barcode, parked.assay_code, parked.value) == ("1045813", "1554-5", "182")
    assert (parked.units, parked.flags, parked.run_id) == ("mg/dl", ["H"], "CNTRL-3456")
    # No OBX-14: the time is OBR-7's, which has no offset, so it is the lab's time zone's.
    local = ZoneInfo(settings.TIME_ZONE)
    assert parked.measured_at == datetime(2002, 2, 15, 7, 30, tzinfo=local)
    assert "Unknown barcode 1045813" in parked.why
    assert parked.message.body == body and parked.message.kind == "hl7"
    assert not Result.objects.exists()


def test_a_result_for_an_unknown_sample_is_parked_and_the_others_recorded(waiting, middleware):
    unknown = "OBR|2||S-404404|CHEM|||20261125095500"
    body = message(*CHEMISTRY[:5], unknown, "OBX|1|NM|GLU||5.2|mmol/L||")
    ack = ack_of(post(middleware, body))
    assert msa(ack)[0] == "AA" and errs(ack) == [("OBX^2", "204", "W")]
    assert Result.objects.get().assay.code == "GLU"
    assert UnmatchedResult.objects.get().barcode == "S-404404"


@pytest.mark.parametrize(
    ("obx", "location"),
    [
        ("OBX|2|NM|CREA||five|umol/L||", "OBX^2^5"),
        ("OBX|2|SN|CREA||>^900|umol/L||", "OBX^2^5"),
        ("OBX|2|ST|CREA||see comment|||", "OBX^2^2"),
        ("OBX|2|NM|CREA||52|mg/dL||", "OBX^2^6"),  # not the assay's units: refused by intake
        ("OBX|2|NM|CREA||52|umol/L||N|||F|||20261325100200", "OBX^2^14"),
        ("OBX|2|NM|||52|umol/L||", "OBX^2^3"),
        ("OBX|2|NM|CREA||52|umol/L||N|||P", "OBX^2^11"),  # preliminary
        ("OBX|2|NM|CREA||52|umol/L||N|||C", "OBX^2^11"),  # a correction: amended in LabTrack
        ("OBX|2|NM|CREA|||umol/L||N|||X", "OBX^2^11"),  # no result could be obtained
    ],
)
def test_a_refused_result_gets_ae_with_the_reason_and_nothing_is_recorded(
    waiting, middleware, obx, location
):
    ack = ack_of(post(middleware, with_obx(CHEMISTRY[4], obx)))
    assert msa(ack) == ("AE", "MW-000200")
    assert [e[0] for e in errs(ack)] == [location]
    assert ack.segment("MSA").extract_field(field_num=3).startswith("Nothing was recorded:")
    assert nothing_stored()


ADT = message(
    "MSH|^~\\&|ADM|HOSP|LABTRACK|LAB|20261125100500||ADT^A01^ADT_A01|ADT-77|P|2.5.1",
    "EVN|A01|20261125100500",
    "PID|1||12345^^^HOSP^MR||DOE^JANE",
)


@pytest.mark.parametrize(
    ("body", "control_id", "location", "code"),
    [
        ("", "", "MSH^1", "101"),
        ("this is not HL7\r", "", "MSH^1", "100"),
        (ADT, "ADT-77", "MSH^1^9", "200"),
        (CHEMISTRY[0].replace("ORU^R01", "ORU^R30") + "\r", "MW-000123", "MSH^1^9", "201"),
        (CHEMISTRY[0].replace("2.5.1", "3.0") + "\r", "MW-000123", "MSH^1^12", "203"),
        (
            message(CHEMISTRY[0].replace("|P|", "|T|"), *CHEMISTRY[1:]),
            "MW-000123",
            "MSH^1^11",
            "207",
        ),
        (CHEMISTRY[0].replace("MW-000123", "") + "\r", "", "MSH^1^10", "101"),
        (message(*CHEMISTRY[:4]), "MW-000123", "MSH^1", "100"),  # no OBX
        (message(CHEMISTRY[0], CHEMISTRY[4]), "MW-000123", "OBX^1", "100"),  # no OBR before
        (message(*CHEMISTRY) * 2, "", "MSH^1", "100"),  # two messages in one request
    ],
)
def test_a_message_that_cannot_be_taken_gets_ar_with_the_reason_and_is_not_stored(
    waiting, middleware, body, control_id, location, code
):
    ack = ack_of(post(middleware, body))
    assert msa(ack) == ("AR", control_id)
    assert errs(ack) == [(location, code, "E")]
    assert ack.segment("MSA").extract_field(field_num=3)
    assert nothing_stored()


def test_the_ar_for_another_message_type_mirrors_its_header(middleware):
    header = ack_of(post(middleware, ADT)).segment("MSH")
    assert str(header(9)) == "ACK^A01^ACK" and header.extract_field(field_num=5) == "ADM"


def test_a_body_that_is_not_utf8_gets_ar(waiting, middleware):
    body = message(*CHEMISTRY).replace("Glucose", "Glucose \xe9").encode("latin-1")
    ack = ack_of(post(middleware, body))
    assert msa(ack)[0] == "AR" and nothing_stored()
    assert ack.segment("MSH").extract_field(field_num=3) == "LABTRACK"


def test_an_oversized_message_gets_413_with_an_ar_and_is_not_read(waiting, middleware, settings):
    settings.HL7_MAX_BYTES = 100
    response = post(middleware, message(*CHEMISTRY))
    assert response.status_code == 413 and response["Content-Type"].startswith(ACK)
    assert msa(hl7.parse(response.content.decode()))[0] == "AR"
    assert nothing_stored()


def test_callers_refused_get_json_401_403_or_415(lab, waiting, middleware):
    body = message(*CHEMISTRY)
    for client, code in (
        (api(), 401),
        (api("not-a-token"), 401),
        (api(api_token_create(owner=lab.technician)), 403),
    ):
        response = post(client, body)
        assert response.status_code == code and "detail" in response.json()
        assert response["Content-Type"] == "application/json"
    wrong_type = post(middleware, body, "application/json")
    assert wrong_type.status_code == 415 and "detail" in wrong_type.json()
    assert nothing_stored()


def test_the_schema_describes_the_endpoint_with_an_example_message_and_acks(client, db):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    post = schema["paths"]["/api/v1/hl7/"]["post"]
    assert {ACK, "application/hl7-v2", "text/plain"} <= set(post["requestBody"]["content"])
    assert "ORU^R01" in str(post["requestBody"]["content"][ACK]["examples"])
    assert {"200", "401", "403", "413", "415"} <= set(post["responses"])
    examples = post["responses"]["200"]["content"][ACK]["examples"].values()
    assert {"AA", "AE", "AR"} <= {hl7.parse(e["value"]).segment("MSA")(1)[0] for e in examples}


def test_the_message_is_kept_as_the_bytes_received_with_their_sha256(lab, waiting, middleware):
    """Latin-1 text (a name with an accent in PID) is kept byte for byte, and read as text."""
    body = message(
        CHEMISTRY[0], "PID|1||SUBJ-S-000961^^^LAB^MR||Müller^Zoë", *CHEMISTRY[2:]
    ).encode("latin-1")
    response = middleware.post("/api/v1/hl7/", body, content_type=f"{ACK}; charset=iso-8859-1")
    assert msa(ack_of(response))[0] == "AA"
    stored = InstrumentMessage.objects.get()
    assert bytes(stored.raw) == body and stored.sha256 == hashlib.sha256(body).hexdigest()
    assert "Müller^Zoë" in stored.body
