"""The ACK follows the message's version (MSH-12): MSH-9 ``ACK^R01`` up to 2.3 and
``ACK^R01^ACK`` from 2.3.1 (the message structure component); ERR-1 alone (segment ^
sequence ^ field ^ code&text&HL70357) up to 2.4, and from 2.5 ERR-2 the location, ERR-3 the
table 0357 code, ERR-4 the severity and ERR-8 the message; a later or unknown version as
2.5.1."""

from __future__ import annotations

import hl7
import pytest

from samples.services.hl7 import (
    DATA_TYPE_ERROR,
    UNKNOWN_KEY,
    Hl7Rejected,
    Problem,
    oru_ack,
    oru_read,
)


def message(version: str, obx: str = "OBX|1|NM|GLU||six|mmol/L||N|||F") -> str:
    header = f"MSH|^~\\&|MW|LAB|LABTRACK|LAB|20261205100000||ORU^R01|C-{version}|P|{version}"
    return "\r".join([header, "OBR|1||S-1|CHEM", obx, ""])


PROBLEMS = [
    Problem("A valid number is required.", DATA_TYPE_ERROR, "OBX", 1, 5, obx=1),
    Problem("Unknown barcode S-1.", UNKNOWN_KEY, "OBX", 2, None, severity="W", obx=2),
]


@pytest.mark.parametrize(
    ("version", "msh9"),
    [
        ("2.2", "ACK^R01"),
        ("2.3", "ACK^R01"),
        ("2.3.1", "ACK^R01^ACK"),
        ("2.4", "ACK^R01^ACK"),
        ("2.5", "ACK^R01^ACK"),
        ("2.5.1", "ACK^R01^ACK"),
        ("2.8.2", "ACK^R01^ACK"),
    ],
)
def test_msh9_has_the_structure_component_from_2_3_1(version, msh9):
    ack = hl7.parse(oru_ack(hl7.parse(message(version)), "AE", "Nothing was recorded.", PROBLEMS))
    header = ack.segment("MSH")
    assert str(header(9)) == msh9 and str(header(12)) == version
    assert str(ack.segment("MSA")) == f"MSA|AE|C-{version}|Nothing was recorded."


@pytest.mark.parametrize("version", ["2.2", "2.3", "2.3.1", "2.4"])
def test_up_to_2_4_each_problem_is_an_err_1_alone(version):
    ack = oru_ack(hl7.parse(message(version)), "AE", "Nothing was recorded.", PROBLEMS)
    errs = [s for s in ack.split("\r") if s.startswith("ERR")]
    assert errs == [
        "ERR|OBX^1^5^102&Data type error&HL70357",
        "ERR|OBX^2^^204&Unknown key identifier&HL70357",
    ]


@pytest.mark.parametrize("version", ["2.5", "2.5.1", "2.6", "2.7", "2.8.2"])
def test_from_2_5_err_2_3_4_and_8(version):
    ack = oru_ack(hl7.parse(message(version)), "AE", "Nothing was recorded.", PROBLEMS)
    errs = [s for s in ack.split("\r") if s.startswith("ERR")]
    assert errs == [
        "ERR||OBX^1^5|102^Data type error^HL70357|E||||A valid number is required.",
        "ERR||OBX^2|204^Unknown key identifier^HL70357|W||||Unknown barcode S-1.",
    ]


def test_a_version_not_taken_is_refused_with_an_ack_in_the_2_5_1_layout():
    with pytest.raises(Hl7Rejected) as rejected:
        oru_read(message("3.0"))
    problem = rejected.value.problem
    ack = oru_ack(rejected.value.message, "AR", problem.error, [problem])
    assert "ERR||MSH^1^12|203^Unsupported version id^HL70357|E||||" in ack
    assert "ACK^R01^ACK" in ack and "send 2.2 to 2.8" in problem.error


def test_an_older_message_rejected_as_a_whole_gets_its_versions_layout():
    body = message("2.3").replace("ORU^R01", "ORU^R03")
    with pytest.raises(Hl7Rejected) as rejected:
        oru_read(body)
    problem = rejected.value.problem
    ack = hl7.parse(oru_ack(rejected.value.message, "AR", problem.error, [problem]))
    assert str(ack.segment("MSH")(9)) == "ACK^R03"
    assert str(ack.segment("ERR")) == "ERR|MSH^1^9^201&Unsupported event code&HL70357"


def test_the_answer_for_a_refusal_and_an_unmatched_result_in_2_3_1():
    oru = oru_read(message("2.3.1", "OBX|1|NM|GLU||5.0|mmol/L||N|||F"))
    assert oru.problems == [] and oru.version == "2.3.1"
    units = oru.locate(0, "units", "Not the assay's units.", severity="W")
    kept = oru_ack(oru.message, "AA", "Recorded 0 results.", [units]).split("\r")
    assert kept[1:] == [
        "MSA|AA|C-2.3.1|Recorded 0 results.",
        "ERR|OBX^1^6^207&Application internal error&HL70357",
        "",
    ]
    unknown = oru.locate(0, "", "Unknown barcode S-1.", code=UNKNOWN_KEY, severity="W")
    parked = oru_ack(oru.message, "AA", "Recorded 0 results.", [unknown]).split("\r")
    assert parked[2] == "ERR|OBX^1^^204&Unknown key identifier&HL70357"


def test_without_a_message_the_stand_in_answers_in_2_5():
    ack = hl7.parse(oru_ack(None, "AR", "The message is empty.", [PROBLEMS[0]]))
    assert str(ack.segment("MSH")(12)) == "2.5" and str(ack.segment("MSH")(9)) == "ACK^R01^ACK"
    assert str(ack.segment("ERR")(2)) == "OBX^1^5"


@pytest.mark.parametrize("line", ["|junk", "obx|1|NM", "OB|1", "\x1bOBX|1"])
def test_a_line_that_is_no_segment_is_an_ar_not_an_exception(line):
    with pytest.raises(Hl7Rejected) as rejected:
        oru_read(message("2.5.1").replace("OBR|", line + "\rOBR|"))
    assert rejected.value.problem.code[0] == "100" and "Segment 2" in rejected.value.problem.error


def test_the_ack_names_the_charset_msh18_named_and_none_when_the_message_named_none():
    latin = message("2.5").replace("|P|2.5", "|P|2.5||||||8859/1~ISO IR87")
    ack = hl7.parse(oru_ack(hl7.parse(latin), "AA", "Recorded 1 result.", []))
    assert str(ack.segment("MSH")(18)) == "8859/1~ISO IR87"
    plain = oru_ack(hl7.parse(message("2.5")), "AA", "Recorded 1 result.", [])
    assert plain.split("\r")[0].endswith("|P|2.5")
