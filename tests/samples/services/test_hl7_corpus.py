"""The corpus of HL7 v2 messages shaped like what analyzers and LIS feeds send (see the
fixtures' README): each is made text by ``hl7_text`` and read by ``oru_read``, and what is
read from it is what the lab would see: the results, their values and units, the text of
qualitative ones, and the problems that stop a result, each on its own OBX."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import hl7
import pytest

from samples.services.hl7 import Hl7Text, OruMessage, hl7_text, oru_ack, oru_read

CORPUS = Path(__file__).parents[1] / "api" / "fixtures" / "hl7"


def read(name: str) -> tuple[Hl7Text, OruMessage]:
    text = hl7_text((CORPUS / name).read_bytes(), None)
    assert text.problem is None, text.problem
    return text, oru_read(text.text, text.charset)


def where(oru: OruMessage) -> list[tuple[str, int, int | None, int | None, str]]:
    """(segment, sequence, field, OBX number, table 0357 code) of each problem."""
    return [(p.segment, p.sequence, p.field, p.obx, p.code[0]) for p in oru.problems]


def raw_segments(name: str) -> list[str]:
    body = (CORPUS / name).read_bytes()
    text = hl7_text(body, None).text
    return [line for line in text.replace("\r\n", "\r").replace("\n", "\r").split("\r") if line]


def test_the_corpus_has_each_version_and_segment_ending_and_a_readme_for_each_file():
    files = sorted(p.name for p in CORPUS.glob("*.hl7"))
    readme = (CORPUS / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in files)
    versions = set()
    endings = set()
    for path in CORPUS.glob("*.hl7"):
        body = path.read_bytes()
        text = hl7_text(body, None)
        versions.add(str(text.header.segment("MSH")(12)))
        endings.add(b"\r\n" if b"\r\n" in body else b"\n" if b"\n" in body else b"\r")
    assert {"2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1"} <= versions
    assert endings == {b"\r", b"\n", b"\r\n"}


def test_a_chemistry_analyzer_sends_numbers_and_sn_comparisons_which_stop_only_their_obx():
    text, oru = read("chemistry_2.5.1_cr.hl7")
    assert (text.charset, oru.control_id, oru.version) == ("utf-8", "CHM-20261203-0042", "2.5.1")
    assert len(oru.observations) == 9
    assert {i["sample"] for i in oru.items} == {"S-004571"}  # OBR-3.1, the filler's number
    glucose, potassium = oru.items[0], oru.items[4]
    assert (glucose["assay"], glucose["value"], glucose["units"]) == ("GLU", "5.4", "mmol/L")
    assert (potassium["value"], potassium["flags"]) == ("5.8", ["H"])
    assert glucose["measured_at"] == datetime(2026, 12, 3, 7, 1, 12, tzinfo=UTC)
    assert "text" not in glucose
    # <^0.5 and >^100 are comparisons: refused on their OBX, field 5; =^42 is the number 42.
    assert where(oru) == [("OBX", 6, 5, 6, "102"), ("OBX", 8, 5, 8, "102")]
    assert oru.items[6]["value"] == "42"
    assert [o.obx for o in oru.observations if not o.problems] == [1, 2, 3, 4, 5, 7, 9]


def test_a_hematology_analyzer_sends_24_numbers_and_is_and_ed_lines_refused_one_by_one():
    text, oru = read("hematology_2.3.1_crlf.hl7")
    assert text.charset == "iso8859-1"  # MSH-18 8859/1
    assert len(oru.observations) == 28
    numeric = [o for o in oru.observations if not o.problems]
    assert len(numeric) == 24
    assert [i["assay"] for i in oru.items[:3]] == ["WBC", "RBC", "HGB"]
    platelets = next(i for i in oru.items if i["assay"] == "PLT")
    assert (platelets["value"], platelets["units"], platelets["flags"]) == ("412", "10*9/L", ["H"])
    # No OBX-14: the time is OBR-7's, in the lab's time zone.
    assert all(i["measured_at"] is not None for i in oru.items)
    # The mode and rack (IS) and the two histograms (ED): each its own problem, at OBX-2.
    assert where(oru) == [("OBX", n, 2, n, "102") for n in (25, 26, 27, 28)]
    assert "ED" in oru.problems[2].error
    assert oru.observations[26].segment == raw_segments("hematology_2.3.1_crlf.hl7")[30]


def test_a_serology_feed_sends_positive_as_st_and_cwe_read_as_answers():
    _, oru = read("serology_2.4_lf.hl7")
    assert len(oru.observations) == 5
    texts = {i["assay"]: i.get("text") for i in oru.items}
    assert texts == {
        "HBSAG": "Positive",
        "HBSAG-COI": None,
        "ORG": "Escherichia coli",
        "ESBL": "Positive",
        "COMMENT": ">10^5 CFU/mL, pure growth.",  # an unescaped ^ in a TX: kept as sent
    }
    # Texts are read as the values (answers of qualitative assays: recording matches them to
    # the assay's answers, and refuses a text for an assay of numbers).
    assert where(oru) == []
    assert [i["value"] for i in oru.items if i.get("text")] == [
        t for t in texts.values() if t is not None
    ]
    index = oru.items[1]
    assert (index["value"], index["units"], index["flags"]) == ("18.4", "COI", ["H"])
    # The second OBR's results carry its own accession (OBR-3).
    assert {i["sample"] for i in oru.items} == {"S-004602"}


def test_a_2_2_message_is_read_like_the_later_versions():
    text, oru = read("legacy_lis_2.2_cr.hl7")
    assert (text.charset, oru.version, oru.control_id) == ("utf-8", "2.2", "OL-77310")
    assert [(i["sample"], i["assay"], i["value"]) for i in oru.items] == [
        ("S-000101", "CHOL", "5.2"),
        ("S-000101", "TRIG", "1.9"),
        ("S-000101", "HDL", "1.1"),
    ]
    assert oru.problems == []
    ack = hl7.parse(oru_ack(oru.message, "AA", "Recorded 3 results.", []))
    assert str(ack.segment("MSH")(9)) == "ACK^R01" and str(ack.segment("MSH")(12)) == "2.2"


def test_an_mllp_framed_message_is_read_without_its_framing():
    body = (CORPUS / "urinalysis_2.3_mllp.hl7").read_bytes()
    assert body.startswith(b"\x0bMSH") and body.endswith(b"\x1c\r")
    text, oru = read("urinalysis_2.3_mllp.hl7")
    assert text.text.startswith("MSH|") and "\x1c" not in text.text and "\x0b" not in text.text
    assert [i["value"] for i in oru.items] == ["6.0", "1.015", "Yellow", "Slightly cloudy"]
    assert [i.get("text") for i in oru.items[2:]] == ["Yellow", "Slightly cloudy"]
    assert where(oru) == []


def test_a_latin1_message_is_read_in_the_charset_msh18_names():
    text, oru = read("lis_2.5_latin1.hl7")
    assert text.charset == "iso8859-1"
    assert "Müller^Zoë" in text.text
    assert [i["value"] for i in oru.items[:2]] == ["82", "1.12"]
    # \XE9\ is a byte of ISO 8859-1: é.
    assert oru.items[2]["text"] == "Prélèvement hémolysé, contrôle échantillon."
    offset = timezone(timedelta(hours=1))
    assert oru.items[0]["measured_at"] == datetime(2026, 12, 5, 11, 28, 11, tzinfo=offset)
    # The same bytes read as UTF-8 (what a Content-Type saying so would make of them): an AR.
    wrong = hl7_text((CORPUS / "lis_2.5_latin1.hl7").read_bytes(), "utf-8")
    assert wrong.problem is not None and wrong.problem.segment == "PID"
    assert wrong.control_id == "FR-0099107"


def test_escape_sequences_are_read_in_the_messages_charset():
    _, oru = read("escapes_2.5.1_cr.hl7")
    assay, platelets, interpretation, remark = oru.items
    assert (assay["assay"], assay["value"]) == ("NA&K", "31.6")
    assert platelets["units"] == "10^9/L"
    assert interpretation["text"] == "Line one\nLine two: A|B ~ C\\D\nCafé ← ok"
    assert remark["text"] == "Note: résultat vérifié"  # \XC3\\XA9\: one character in two
    assert remark["value"] == remark["text"] and where(oru) == []
    # The segment is kept as received: escapes and separators as sent.
    assert oru.observations[2].segment == raw_segments("escapes_2.5.1_cr.hl7")[5]
    assert "\\XC3A9\\" in oru.observations[2].segment


def test_a_byte_order_mark_and_blank_lines_around_the_message_are_skipped():
    body = (CORPUS / "bom_blank_lines_2.5.1_crlf.hl7").read_bytes()
    assert body.startswith(b"\xef\xbb\xbf\r\nMSH") and body.endswith(b"\r\n\r\n\r\n")
    text, oru = read("bom_blank_lines_2.5.1_crlf.hl7")
    assert text.text.startswith("MSH|")
    assert [(i["assay"], i["value"]) for i in oru.items] == [("FERR", "212"), ("B12", "318")]
    assert oru.problems == []
    # Given as text with its BOM (a caller that decoded it), oru_read skips it too.
    assert oru_read(body.decode("utf-8")).items == oru.items


def test_nul_padding_makes_an_ar_that_still_echoes_the_control_id():
    text = hl7_text((CORPUS / "nul_padding_2.5.1_cr.hl7").read_bytes(), None)
    assert text.problem is not None and "holds a NUL" in text.problem.error
    assert "\x00" not in text.text  # what a person may be shown
    ack = hl7.parse(oru_ack(text.header, "AR", text.problem.error, [text.problem]))
    assert ack.segment("MSA")(1)[0] == "AR" and str(ack.segment("MSA")(2)) == "BG-000912"
    assert str(ack.segment("ERR")(2)) == "MSH^1" and str(ack.segment("ERR")(3)).startswith("102")
    assert ack.segment("MSH").extract_field(field_num=5) == "GAS-MW"  # the header mirrored


def test_statuses_empty_values_and_a_missing_accession_stop_each_obx_on_its_own():
    _, oru = read("statuses_2.5.1_cr.hl7")
    assert len(oru.observations) == 7
    assert where(oru) == [
        ("OBX", 2, 11, 2, "102"),  # preliminary
        ("OBX", 3, 11, 3, "102"),  # a correction
        ("OBX", 4, 11, 4, "102"),  # no result (X): its empty value is no second problem
        ("OBX", 5, 5, 5, "101"),  # final, but no value
        ("OBR", 2, 3, 6, "101"),  # the second OBR has no accession: each of its OBX
        ("OBR", 2, 3, 7, "101"),
    ]
    assert [o.obx for o in oru.observations if not o.problems] == [1]
    assert [len(o.problems) for o in oru.observations] == [0, 1, 1, 1, 1, 1, 1]
    assert oru.observations[5].segment == "OBX|6|NM|CHOL^Cholesterol^L||4.8|mmol/L|<5.2|N|||F"


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.hl7")))
def test_each_observation_keeps_its_obx_as_received(name):
    text = hl7_text((CORPUS / name).read_bytes(), None)
    if text.problem:
        return
    oru = oru_read(text.text, text.charset)
    sent = [line for line in raw_segments(name) if line.startswith("OBX")]
    assert [o.segment for o in oru.observations] == sent
