"""Escape sequences are read in the message's character set: python-hl7's own unescaping
makes one character of each byte of ``\\X..\\`` (UTF-8's é becomes Ã©), so values are
unescaped here. What cannot be read (a switch to another character set, bytes that are not
text, a control character) is a problem of its OBX, never of the whole message."""

from __future__ import annotations

import hl7
import pytest

from samples.services.hl7 import Hl7Rejected, oru_read
from samples.services.hl7_escapes import unescape

DEFAULT = "|^~\\&"


def oru(obx: str, charset_field: str = "", version: str = "2.5.1", encoding: str = "^~\\&"):
    header = f"MSH|{encoding}|MW|LAB|LABTRACK|LAB|20261205100000||ORU^R01|C-1|P|{version}"
    if charset_field:
        header += "||||||" + charset_field
    return "\r".join([header, "OBR|1||S-1|CHEM", obx, ""])


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (r"A\F\B\S\C\T\D\R\E\E\F", "A|B^C&D~E\\F"),
        (r"Caf\XC3A9\ au lait", "Café au lait"),
        (r"r\XC3\\XA9\sultat", "résultat"),  # one character over two sequences
        (r"\XE282AC\ 5", "€ 5"),
        (r"one\.br\two\.sp2\three\.sk3\four", "one\ntwo\n\nthree   four"),
        (r"\.in+4\indented\.ti-2\ \.fi\filled\.nf\ \.ce\centred", "indented filled \ncentred"),
        (r"\H\bold\N\ normal", "bold normal"),
        (r"local \Zabc\ kept", "local \\Zabc\\ kept"),
        (r"open \X41", "open \\X41"),  # unterminated: as sent
        (r"unknown \Q\ kept", "unknown \\Q\\ kept"),
        ("plain", "plain"),
    ],
)
def test_escape_sequences_read_in_utf8(value, text):
    assert unescape(value, DEFAULT, "utf-8") == (text, None)


def test_hex_bytes_are_read_in_the_messages_charset():
    assert unescape(r"M\XFC\ller", DEFAULT, "iso8859-1") == ("Müller", None)
    assert unescape("\\XE9\\t\\XE9\\", DEFAULT, "iso8859-1") == ("été", None)
    assert unescape("\\XA4\\", DEFAULT, "iso8859-15") == ("€", None)


def test_python_hl7_garbles_utf8_hex_escapes_which_is_why_values_are_read_here():
    message = hl7.parse(oru(r"OBX|1|ST|NOTE||Caf\XC3A9\ \.br\x||||||F"))
    garbled = message.segment("OBX").extract_field(field_num=5)
    assert garbled != "Café \nx" and "Ã" in garbled and "\r" in garbled
    read = oru_read(oru(r"OBX|1|ST|NOTE||Caf\XC3A9\ \.br\x||||||F"))
    assert read.items[0]["text"] == "Café \nx"


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        ("\\XE9\\t\\XE9\\", "not utf-8 text"),
        (r"bell\X07\ ", "a control character"),
        (r"nul\X00\ ", "a control character"),
        (r"\XABC\ odd", "not whole bytes"),
        ("\\C2D41\\caf\\XE9\\", "a switch to another character set"),
        (r"\M2442\kanji", "a switch to another character set"),
    ],
)
def test_what_cannot_be_read_is_said(value, fault):
    text, found = unescape(value, DEFAULT, "utf-8")
    assert found is not None and fault in found
    assert "\x00" not in text and "\x07" not in text


def test_an_unreadable_escape_in_a_recorded_field_is_a_problem_of_its_obx_alone():
    message = "\r".join(
        [
            "MSH|^~\\&|MW|LAB|LABTRACK|LAB|20261205100000||ORU^R01|C-1|P|2.5.1",
            "OBR|1||S-1|CHEM",
            "OBX|1|NM|GLU||5.0|mmol/L||N|||F",
            "OBX|2|NM|NA||140|mmol\\X00\\/L||N|||F",
            "OBX|3|NM|K\\C2D41\\||4.1|mmol/L||N|||F",
            "OBX|4|NM|CL||101|mmol/L||N|||F||\\XFF\\",  # OBX-13: not read, not refused
            "",
        ]
    )
    read = oru_read(message)
    assert [(p.segment, p.sequence, p.field, p.obx) for p in read.problems] == [
        ("OBX", 2, 6, 2),
        ("OBX", 3, 3, 3),
    ]
    assert "\\X00\\" in read.problems[0].error and "\\C2D41\\" in read.problems[1].error
    assert read.observations[1].segment == "OBX|2|NM|NA||140|mmol\\X00\\/L||N|||F"


def test_other_encoding_characters_are_honoured():
    # MSH-2 "!~#&" would be odd; "^~|&"-like swaps are refused by MSH-2's check, so: a
    # message whose escape character is # and truncation character (2.7) is $.
    read = oru_read(
        oru(r"OBX|1|TX|NOTE||50#S#50 #T# #E# #P# \ #XC3A9#||||||F", version="2.7", encoding="^~#&$")
    )
    assert read.items[0]["text"] == "50^50 & # $ \\ é"


def test_the_text_of_a_tx_keeps_each_repetition_as_a_line():
    read = oru_read(oru(r"OBX|1|TX|NOTE||First line~Second \T\ line~||||||F"))
    assert read.items[0]["text"] == read.items[0]["value"] == "First line\nSecond & line"
    assert read.problems == []  # a TX is read as an answer: recording matches it


def test_a_repeated_line_break_is_at_most_a_hundred():
    assert unescape(r"a\.sp99999999\b", DEFAULT, "utf-8") == ("a" + "\n" * 100 + "b", None)


@pytest.mark.parametrize(
    ("hostile", "taken"),
    [(r"\.sp99999999\ ", True), (r"\.sp9x\ ", False), (r"\C2842\ ", False), ("\\", False)],
)
def test_hostile_escapes_in_the_header_are_read_here_not_by_the_library(hostile, taken):
    """The library's unescaping raises on ``\\.sp9x\\`` and would make a hundred megabytes of
    ``\\.sp99999999\\``: the header's fields are read here too (line breaks around a code
    are no part of it)."""
    body = oru("OBX|1|NM|GLU||5.0|mmol/L||N|||F").replace("|P|2.5.1", f"|P|2.5.1{hostile}")
    if taken:
        assert oru_read(body).version == "2.5.1"
    else:
        with pytest.raises(Hl7Rejected) as rejected:
            oru_read(body)
        assert rejected.value.problem.field == 12 and len(rejected.value.problem.error) < 400
    control = oru("OBX|1|NM|GLU||5.0|mmol/L||N|||F").replace("|C-1|", f"|C-1{hostile}|")
    assert len(oru_read(control).control_id) < 200
