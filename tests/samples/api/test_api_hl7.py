"""``POST /api/v1/hl7/``: instrument middleware posts HL7 v2 ORU^R01 messages; results are
recorded for the samples waiting for them (or kept in the unmatched inbox), the message is
stored raw (taken or not), and the answer is an HL7 ACK: AA (each OBX recorded or kept for a
person) or AR (rejected, or a control id reused with other content)."""

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
    times (and stable since), each in a running batch, waiting for results. The instrument
    runs both assays."""
    hours = (timezone.now() - COLLECTED) / timedelta(hours=1)
    stable = math.ceil(hours) + 48
    creatinine = make_assay(
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
    lab.instrument.assays.add(creatinine)
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
    # A 2.4 message: its ACK's ERR has ERR-1 alone (segment^sequence^field^code&text&table),
    # here the accession no sample has.
    assert [str(err) for err in ack.segments("ERR")] == [
        "ERR|OBR^1^3^204&Unknown key identifier&HL70357"
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
    assert msa(ack)[0] == "AA" and errs(ack) == [("OBR^2^3", "204", "W")]
    assert Result.objects.get().assay.code == "GLU"
    assert UnmatchedResult.objects.get().barcode == "S-404404"


@pytest.mark.parametrize(
    ("obx", "location"),
    [
        ("OBX|2|NM|CREA||five|umol/L||", "OBX^2^5"),
        ("OBX|2|SN|CREA||>^900|umol/L||", "OBX^2^5"),
        ("OBX|2|ST|CREA||see comment|||", "OBX^2^5"),  # a text for an assay of numbers
        ("OBX|2|NM|CREA||52|mg/dL||", "OBX^2^6"),  # not the assay's units: refused by intake
        ("OBX|2|NM|CREA||52|umol/L||N|||F|||20261325100200", "OBX^2^14"),
        ("OBX|2|NM|||52|umol/L||", "OBX^2^3"),
        ("OBX|2|NM|CREA||52|umol/L||N|||P", "OBX^2^11"),  # preliminary
        ("OBX|2|NM|CREA||52|umol/L||N|||C", "OBX^2^11"),  # a correction: amended in LabTrack
        ("OBX|2|NM|CREA|||umol/L||N|||X", "OBX^2^11"),  # no result could be obtained
    ],
)
def test_an_obx_that_cannot_be_recorded_is_kept_for_a_person_and_the_others_recorded(
    waiting, middleware, obx, location
):
    ack = ack_of(post(middleware, with_obx(CHEMISTRY[4], obx)))
    assert msa(ack) == ("AA", "MW-000200")
    assert [(e[0], e[2]) for e in errs(ack)] == [(location, "W")]
    assert ack.segment("MSA").extract_field(field_num=3).startswith("Recorded 1 result.")
    assert Result.objects.get().assay.code == "GLU"
    kept = UnmatchedResult.objects.get()
    assert kept.segment == obx and kept.why and kept.resolved_at is None
    assert kept.message == InstrumentMessage.objects.get() and kept.message.status_code == 202


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
        (message(*CHEMISTRY) * 2, "MW-000123", "MSH^1", "100"),  # two messages in one request
    ],
)
def test_a_message_that_cannot_be_taken_gets_ar_with_the_reason_and_is_kept(
    waiting, middleware, body, control_id, location, code
):
    ack = ack_of(post(middleware, body))
    assert msa(ack) == ("AR", control_id)
    assert errs(ack) == [(location, code, "E")]
    assert ack.segment("MSA").extract_field(field_num=3)
    assert_kept_refused(body, ack)


def assert_kept_refused(body, ack):
    """Nothing recorded, and the message kept as received with the AR it got, claiming no
    control id (sent again corrected, it is read again)."""
    assert not Result.objects.exists() and not UnmatchedResult.objects.exists()
    kept = InstrumentMessage.objects.get()
    raw = body if isinstance(body, bytes) else body.encode()
    assert bytes(kept.raw) == raw and kept.status_code == 400
    assert kept.answer["ack"] == str(ack) and kept.idempotency_key is None
    assert kept.control_id == msa(ack)[1]  # as its header gave it, when it could be read


def test_the_ar_for_another_message_type_mirrors_its_header(middleware):
    header = ack_of(post(middleware, ADT)).segment("MSH")
    assert str(header(9)) == "ACK^A01^ACK" and header.extract_field(field_num=5) == "ADM"


def test_a_body_that_is_not_utf8_gets_ar(waiting, middleware):
    body = message(*CHEMISTRY).replace("Glucose", "Glucose \xe9").encode("latin-1")
    ack = ack_of(post(middleware, body))
    assert msa(ack)[0] == "AR"
    assert ack.segment("MSH").extract_field(field_num=3) == "LABTRACK"
    assert_kept_refused(body, ack)


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
    assert {"AA", "AR"} == {hl7.parse(e["value"]).segment("MSA")(1)[0] for e in examples}


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


def test_a_control_id_reused_with_other_content_is_refused_kept_and_shown(
    lab, waiting, middleware, signed_in
):
    """Analyzers restart their counters: MSH-10 again, new results. Never an AA."""
    first = ack_of(post(middleware, with_obx(CHEMISTRY[4], control_id="1")))
    assert msa(first)[0] == "AA" and Result.objects.count() == 1
    reused = with_obx(CHEMISTRY[5], control_id="1")
    ack = ack_of(post(middleware, reused))
    assert msa(ack) == ("AR", "1") and errs(ack) == [("MSH^1^10", "205", "E")]
    assert "reused with different content" in ack.segment("MSA").extract_field(field_num=3)
    assert Result.objects.count() == 1 and not UnmatchedResult.objects.exists()
    kept = InstrumentMessage.objects.get(conflicts_with__isnull=False)
    assert bytes(kept.raw) == reused.encode() and kept.answer["ack"] == str(ack)
    assert kept.conflicts_with == Result.objects.get().message and kept.control_id == "1"
    # Sent again byte for byte, it is the same conflict: no second first message.
    assert msa(ack_of(post(middleware, reused)))[0] == "AR"
    assert InstrumentMessage.objects.filter(idempotency_key="1").count() == 1
    page = signed_in(lab.technician).get("/inbox/").content.decode()
    assert f'id="message-{kept.pk}"' in page and "reused with different content" in page


def test_json_keys_and_control_ids_are_separate_key_spaces(lab, waiting, middleware):
    """A JSON post whose Idempotency-Key equals an earlier MSH-10 is its own message, and the
    other way round: neither replays the other's answer."""
    first = ack_of(post(middleware, with_obx(CHEMISTRY[4], control_id="MSG0001")))
    assert msa(first)[0] == "AA"
    json_post = middleware.post(
        "/api/v1/results/",
        {"sample": waiting, "assay": "CREA", "value": "52", "units": "umol/L"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="MSG0001",
    )
    assert json_post.status_code == 201 and "replayed" not in json_post.json()
    assert Result.objects.count() == 2
    lab.register("S-000962", "GLU")
    keyed = middleware.post(
        "/api/v1/results/",
        {"sample": "S-000962", "assay": "GLU", "value": "5"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="MSG0002",
    )
    assert keyed.status_code == 202
    obr = CHEMISTRY[3].replace("S-000961", "S-000962")
    ack = ack_of(
        post(middleware, with_obx("OBX|1|NM|GLU||5.5|mmol/L", obr=obr, control_id="MSG0002"))
    )
    assert msa(ack) == ("AA", "MSG0002") and UnmatchedResult.objects.count() == 2


@pytest.mark.parametrize("where", ["start", "middle", "end"])
def test_a_nul_byte_gets_an_ar_and_the_bytes_are_kept(waiting, middleware, where):
    body = message(*CHEMISTRY).encode()
    at = {"start": 0, "middle": len(body) // 2, "end": len(body)}[where]
    raw = body[:at] + b"\x00" + body[at:]
    ack = ack_of(post(middleware, raw))
    assert msa(ack)[0] == "AR" and "NUL" in ack.segment("MSA").extract_field(field_num=3)
    assert_kept_refused(raw, ack)
    assert "\ufffd" in InstrumentMessage.objects.get().body


def test_a_latin1_message_named_by_msh18_is_read_and_answered_in_latin1(lab, waiting, middleware):
    header = CHEMISTRY[0] + "||8859/1"  # MSH-17 empty, MSH-18
    body = message(header, "PID|1||SUBJ-S-000961^^^LAB^MR||Müller^Zoë", *CHEMISTRY[2:])
    # No charset in the Content-Type (the test client's post would add one): MSH-18 says it.
    response = middleware.generic("POST", "/api/v1/hl7/", body.encode("latin-1"), ACK)
    assert response.status_code == 200
    assert response["Content-Type"] == f"{ACK}; charset=iso8859-1"
    ack = hl7.parse(response.content.decode("latin-1"))
    assert msa(ack) == ("AA", "MW-000123") and Result.objects.count() == 2
    assert "Müller^Zoë" in InstrumentMessage.objects.get().body
