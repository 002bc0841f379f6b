"""``hl7_text``: the bytes received become the text that is read. The charset is the
Content-Type's, else MSH-18's (HL7 table 0211), else UTF-8; a byte-order mark, MLLP framing
and blank lines around the message are skipped; a NUL, an unknown charset or bytes that are
not text in the charset give a Problem (an AR), never an exception, and the header is read
all the same so that the AR mirrors it and echoes MSH-10."""

from __future__ import annotations

import hl7
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from samples.services.hl7 import CHARSETS, Hl7Rejected, hl7_text, oru_ack, oru_read

HEADER = "MSH|^~\\&|MW|LAB|LABTRACK|LAB|20261205100000||ORU^R01^ORU_R01|CTRL-1|P|2.5.1"
BODY = [
    "PID|1||SUBJ-1||Æsir^Łukasz",
    "OBR|1||S-1|CHEM|||20261205090000",
    "OBX|1|NM|GLU||5.0|mmol/L",
]


def message(charset_field: str = "", encoding: str = "utf-8", header: str = HEADER) -> bytes:
    msh = header + ("||||||" + charset_field if charset_field else "")
    return "\r".join([msh, *BODY, ""]).encode(encoding)


def ar(text):
    ack = hl7.parse(oru_ack(text.header, "AR", text.problem.error, [text.problem]))
    return ack.segment("MSA")(1)[0], str(ack.segment("MSA")(2)), str(ack.segment("ERR")(2))


def test_utf8_is_the_default_and_the_charset_is_named_as_python_names_it():
    text = hl7_text(message(), None)
    assert (text.charset, text.problem, text.control_id) == ("utf-8", None, "CTRL-1")
    assert "Æsir^Łukasz" in text.text


@pytest.mark.parametrize(
    ("named", "encoding", "codec"),
    [
        ("8859/1", "latin-1", "iso8859-1"),
        ("8859/2", "iso8859-2", "iso8859-2"),
        ("8859/15", "iso8859-15", "iso8859-15"),
        ("UNICODE UTF-8", "utf-8", "utf-8"),
        ("UNICODE", "utf-8", "utf-8"),
        ("ASCII", "ascii", "ascii"),
        ("8859/2~ISO IR87", "iso8859-2", "iso8859-2"),  # the first repetition is the default
    ],
)
def test_msh18_names_the_charset_when_the_content_type_does_not(named, encoding, codec):
    body = "\r".join([HEADER + "||||||" + named, "PID|1||SUBJ-1||Zoë", *BODY[1:], ""])
    if encoding == "ascii":
        body = body.replace("ë", "e")
    text = hl7_text(body.encode(encoding), None)
    assert (text.charset, text.problem) == (codec, None)
    assert ("Zoë" if encoding != "ascii" else "Zoe") in text.text


def test_every_table_0211_charset_read_here_is_a_python_codec():
    import codecs

    assert all(codecs.lookup(codec) for codec in CHARSETS.values())
    assert {"ASCII", "8859/1", "8859/15", "UNICODE UTF-8", "UNICODE", "ISO IR87"} <= set(CHARSETS)


def test_a_japanese_message_in_iso_ir87_is_read_through_its_iso2022_escapes():
    body = "\r".join([HEADER + "||||||ISO IR87", "PID|1||SUBJ-1||山田^太郎", *BODY[1:], ""])
    text = hl7_text(body.encode("iso2022_jp"), None)
    assert (text.charset, text.problem) == ("iso2022_jp", None)
    assert "山田^太郎" in text.text


def test_the_content_types_charset_wins_over_msh18():
    body = message("8859/1", "utf-8")
    text = hl7_text(body, "UTF-8")
    assert (text.charset, text.problem) == ("utf-8", None)
    assert "Æsir^Łukasz" in text.text


def test_an_unknown_charset_in_msh18_or_the_content_type_is_an_ar_echoing_the_control_id():
    text = hl7_text(message("KLINGON"), None)
    assert text.problem is not None and text.problem.code[0] == "103"
    assert "KLINGON" in text.problem.error and text.problem.field == 18
    assert ar(text) == ("AR", "CTRL-1", "MSH^1^18")
    declared = hl7_text(message(), "x-unknown-charset")
    assert declared.problem is not None and "x-unknown-charset" in declared.problem.error
    assert ar(declared) == ("AR", "CTRL-1", "MSH^1")


def test_bytes_that_are_not_text_in_the_charset_are_an_ar_located_at_their_segment():
    body = message(encoding="utf-8").replace("Æ".encode(), b"\xc6")  # Latin-1's Æ in UTF-8
    text = hl7_text(body, None)
    assert text.problem is not None and text.charset == "utf-8"
    assert "not utf-8 text" in text.problem.error and "0xC6" in text.problem.error
    assert (text.problem.segment, text.problem.sequence) == ("PID", 1)
    assert ar(text) == ("AR", "CTRL-1", "PID^1")
    assert "\ufffdsir" in text.text  # for a person: what could not be read stands out


@pytest.mark.parametrize(
    ("where", "segment"),
    [
        (lambda b: b.replace(b"SUBJ-1", b"SUBJ\x00-1"), "PID^1"),
        (lambda b: b.replace(b"|5.0|", b"|5.0\x00|"), "OBX^1"),
        (lambda b: b.replace(b"|LAB|LABTRACK", b"|LAB\x00|LABTRACK"), "MSH^1"),
        (lambda b: b + b"\x00" * 8, "MSH^1"),
    ],
)
def test_a_nul_anywhere_is_an_ar_with_msa2_echoed_never_an_exception(where, segment):
    text = hl7_text(where(message()), None)
    assert text.problem is not None and "holds a NUL" in text.problem.error
    assert ar(text) == ("AR", "CTRL-1", segment)
    assert "\x00" not in text.text


def test_a_bom_mllp_framing_and_blank_lines_are_skipped_but_the_text_is_otherwise_as_sent():
    body = message()
    for framed in (
        b"\xef\xbb\xbf" + body,
        b"\r\n\r\n  " + body,
        b"\x0b" + body + b"\x1c\r",
        b"\xef\xbb\xbf\x0b\n" + body + b"\x1c",
    ):
        text = hl7_text(framed, None)
        assert text.problem is None and text.text == body.decode()
        assert oru_read(text.text, text.charset).items[0]["value"] == "5.0"


def test_a_utf16_message_declared_by_the_content_type_is_read():
    body = "\ufeff" + message().decode()
    text = hl7_text(body.encode("utf-16-le"), "utf-16")
    assert (text.charset, text.problem) == ("utf-16", None)
    assert text.text.startswith("MSH|") and text.control_id == "CTRL-1"
    assert oru_read(text.text, text.charset).items[0]["assay"] == "GLU"


def test_something_that_is_not_hl7_has_no_header_and_its_ar_echoes_nothing():
    text = hl7_text(b"GET / HTTP/1.1\r\n", None)
    assert text.problem is None and text.header is None and text.control_id == ""
    nul = hl7_text(b"\x00\x00garbage", None)
    assert nul.problem is not None and nul.header is None
    ack = hl7.parse(oru_ack(nul.header, "AR", nul.problem.error, [nul.problem]))
    assert str(ack.segment("MSA")(2)) == "" and ack.segment("MSA")(1)[0] == "AR"
    assert hl7_text(b"", None).problem is None  # empty: oru_read says so


PIECES = st.sampled_from(
    [
        b"MSH|^~\\&|MW|LAB|||20261205||ORU^R01|C-9|P|2.5.1||||||",
        b"8859/1",
        b"UNICODE UTF-8",
        b"ISO IR87",
        b"\rOBR|1||S-1|CHEM\r",
        b"OBX|1|NM|GLU||5.0|mmol/L||N|||F\r",
        b"OBX|2|ST|NOTE||\\XC3A9\\ \\C2D41\\x\\X0\\||||||F\r",
        b"\x00",
        b"\xef\xbb\xbf",
        b"\x0b",
        b"\x1c\r",
        b"\r\n",
        b"\xe9\xff\xc3",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(PIECES | st.binary(max_size=12), max_size=12).map(b"".join),
    st.sampled_from([None, "utf-8", "latin-1", "utf-16", "shift_jis", "nonsense"]),
)
def test_any_bytes_give_text_or_a_problem_and_never_an_exception(raw, declared):
    text = hl7_text(raw, declared)
    assert "\x00" not in text.text
    if text.problem is not None:
        oru_ack(text.header, "AR", text.problem.error, [text.problem])
        return
    try:
        oru = oru_read(text.text, text.charset)
    except Hl7Rejected as rejected:
        oru_ack(rejected.message, "AR", rejected.problem.error, [rejected.problem])
        return
    assert all(o.segment.startswith("OBX") for o in oru.observations)


@pytest.mark.parametrize(
    "raw", [b"MSH", b"MSH\r|^~\\&|x", b"MSH|^~\r", b"MSH|||||||||||", b"MSH|^^^^|x"]
)
def test_a_header_too_short_or_broken_to_read_gives_no_header_and_no_exception(raw):
    text = hl7_text(raw, None)
    assert text.header is None and text.control_id == ""


def test_a_utf16_message_cut_in_the_middle_of_a_character_is_an_ar():
    body = message().decode().encode("utf-16-le")[:-1]  # an odd number of bytes
    text = hl7_text(body, "utf-16-le")
    assert text.problem is not None and "not utf-16-le text" in text.problem.error
    assert "\x00" not in text.text
