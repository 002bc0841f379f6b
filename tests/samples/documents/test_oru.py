"""The ORU^R01 built for the ordering system, read back with python-hl7 as a receiver would:
its header, the sample as filler order number, one OBX per current result (a retested one
left out), the flags, the result status (C only for a result corrected after release), and
values that hold separators or characters beyond ASCII arriving intact. The ACK reader's
refusals. Nothing is written to the database: the builder takes what it is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import hl7
import pytest
from hl7 import util

from samples.documents.oru import ack_read, oru_build

AT = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


def assay(code="GLU", name="Glucose", low="3.9", high="5.6"):
    return SimpleNamespace(
        code=code,
        name=name,
        reference_low=Decimal(low) if low else None,
        reference_high=Decimal(high) if high else None,
    )


def result(value="7.2000", flag="H", amended_at=None, **kwargs):
    return SimpleNamespace(
        assay=kwargs.get("assay") or assay(),
        value=Decimal(value),
        units=kwargs.get("units", "mmol/L"),
        interpretation=flag,
        amended_at=amended_at,
        measured_at=AT - timedelta(hours=1),
    )


def sample(**kwargs):
    values = {
        "barcode": "S-000123",
        "subject_ref": "SUBJ-1",
        "collected_at": AT - timedelta(hours=3),
        "released_at": AT - timedelta(minutes=30),
    }
    values.update(kwargs)
    return SimpleNamespace(**values)


def build(results, kind="original", **kwargs):
    raw = oru_build(
        sample=kwargs.pop("sample", None) or sample(),
        results=results,
        control_id="LT0001",
        kind=kind,
        at=AT,
        receiver="WARD",
    )
    assert raw.endswith(b"\r") and not raw.endswith(b"\r\r")
    return hl7.parse(raw.decode("utf-8"))


def test_the_header_names_labtrack_the_version_and_the_control_id():
    msh = build([result()]).segment("MSH")
    assert str(msh[3]) == "LABTRACK" and str(msh[5]) == "WARD"
    assert str(msh[7]) == "20261206093000+0000"
    assert str(msh[9]) == "ORU^R01^ORU_R01" and str(msh[10]) == "LT0001"
    assert (str(msh[11]), str(msh[12]), str(msh[18])) == ("P", "2.5.1", "UNICODE UTF-8")


def test_the_barcode_is_the_filler_order_number_and_each_result_an_obx():
    message = build(
        [
            result(),
            result("3.1", "L", assay=assay("K", "Potassium", "3.5", "5.1")),
            result("140", "", assay=assay("NA", "Sodium", "135", None)),
        ]
    )
    assert str(message.segment("PID")[3]) == "SUBJ-1"
    obr = message.segment("OBR")
    assert str(obr[3][0][0]) == "S-000123" and str(obr[25]) == "F"
    rows = [[str(obx[i]) for i in (1, 2, 5, 6, 7, 8, 11)] for obx in message.segments("OBX")]
    assert rows == [
        ["1", "NM", "7.2", "mmol/L", "3.9-5.6", "H", "F"],
        ["2", "NM", "3.1", "mmol/L", "3.5-5.1", "L", "F"],
        ["3", "NM", "140", "mmol/L", ">135", "N", "F"],
    ]
    assert str(message.segments("OBX")[1][3][0][0]) == "K"


def test_a_corrected_message_marks_only_results_corrected_after_release():
    released = AT - timedelta(minutes=30)
    message = build(
        [
            result("6.1", amended_at=released + timedelta(minutes=5)),
            result(
                "4.0",
                "",
                amended_at=released - timedelta(minutes=5),
                assay=assay("K", "Potassium", "3.5", "5.1"),
            ),
        ],
        kind="corrected",
    )
    assert [str(obx[11]) for obx in message.segments("OBX")] == ["C", "F"]
    assert str(message.segment("OBR")[25]) == "C"
    original = build([result("6.1", amended_at=released + timedelta(minutes=5))])
    assert str(original.segment("OBX")[11]) == "F"


def test_values_with_separators_and_beyond_ascii_arrive_intact():
    hostile = "Glu|cose^fast~ing\\&co\r2nd line µ €"
    message = build(
        [result(units="µmol/L", assay=assay("GLU", hostile))],
        sample=sample(subject_ref="A|B^C"),
    )
    assert len(message.segments("OBX")) == 1 and len(message.segment("OBX")) == 15
    name = message.segment("OBX")[3][0][1]
    assert util.unescape(message, str(name)) == hostile
    assert str(message.segment("OBX")[6]) == "µmol/L"
    assert util.unescape(message, str(message.segment("PID")[3])) == "A|B^C"


def test_control_characters_are_dropped_and_an_unknown_kind_refused():
    message = build([result(assay=assay("GLU", "Glu\x00\x07cose"))])
    assert str(message.segment("OBX")[3][0][1]) == "Glucose"
    with pytest.raises(ValueError, match="kind"):
        build([result()], kind="preliminary")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("MSH|^~\\&|W|X|LABTRACK||20261206||ACK|A1|P|2.5.1\rMSA|AA|LT0001", ("AA", "LT0001", "")),
        (
            "MSH|^~\\&|W|X|||20261206||ACK|A1|P|2.5.1\r\rMSA|AE|LT0001|bad \\F\\ ward\r"
            "ERR|||207|E||||no such ward\r",
            ("AE", "LT0001", "bad | ward; no such ward"),
        ),
        ("MSH|^~\\&|W|X|||20261206||ACK|A1|P|2.5.1\nMSA|CA|LT0001\n", ("CA", "LT0001", "")),
    ],
)
def test_an_ack_is_read_for_its_code_the_message_it_answers_and_its_text(answer, expected):
    assert ack_read(answer.encode()) == expected


@pytest.mark.parametrize(
    "answer", [b"", b"HTTP/1.1 200 OK", b"MSH|^~\\&|W|X|||1||ACK|A1|P|2.5.1", b"\xff\xfe"]
)
def test_an_answer_that_is_not_an_ack_is_refused(answer):
    with pytest.raises(ValueError):
        ack_read(answer)


def test_an_answer_of_a_qualitative_assay_goes_as_text_with_its_normal_answers():
    hiv = SimpleNamespace(
        code="HIV", name="HIV 1/2 antibodies", reference_low=None, reference_high=None,
        answers=[{"text": "Negative", "abnormal": False}, {"text": "Positive", "abnormal": True}],
    )  # fmt: skip
    answer = SimpleNamespace(**{**vars(result(flag="A", assay=hiv, units="")), "value": None})
    answer.text = "Positive"
    message = build([result(), answer])
    rows = [[str(obx[i]) for i in (1, 2, 5, 6, 7, 8, 11)] for obx in message.segments("OBX")]
    assert rows == [
        ["1", "NM", "7.2", "mmol/L", "3.9-5.6", "H", "F"],
        ["2", "ST", "Positive", "", "Negative", "A", "F"],
    ]
