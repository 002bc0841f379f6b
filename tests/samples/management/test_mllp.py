"""MLLP framing as the listener reads it (``samples/management/mllp.py``), byte stream in, blocks
out: stray bytes discarded, a restarted block, an oversized block read to its end but not kept,
a stream that ends inside a block; and what the log reads from an ACK."""

from __future__ import annotations

import asyncio

import pytest

from samples.management.mllp import HEAD_BYTES, Answered, Block, read_block

LIMIT = 100


def blocks(*chunks: bytes, limit: int = LIMIT) -> list[Block]:
    """Every block read from a stream that delivers ``chunks`` one by one, then ends."""

    async def read_all() -> list[Block]:
        reader = asyncio.StreamReader(limit=limit)
        for chunk in chunks:
            reader.feed_data(chunk)
        reader.feed_eof()
        found = []
        while True:
            try:
                found.append(await read_block(reader, limit))
            except asyncio.IncompleteReadError:
                return found

    return asyncio.run(read_all())


def test_blocks_are_read_in_order_however_the_bytes_arrive():
    stream = b"\x0bMSH|one\x1c\r\x0bMSH|two\x1c\r"
    one_by_one = [stream[i : i + 1] for i in range(len(stream))]
    expected = [Block(b"MSH|one", size=7), Block(b"MSH|two", size=7)]
    assert blocks(stream) == blocks(*one_by_one) == expected


def test_bytes_outside_a_block_are_counted_and_discarded():
    found = blocks(b"noise\r\n\x0bMSH|one\x1c\r\r\n" + b"x" * 250 + b"\x0bMSH|two\x1c\r")
    assert found == [
        Block(b"MSH|one", size=7, discarded=7),
        Block(b"MSH|two", size=7, discarded=252),  # more than the limit: read and dropped
    ]


def test_a_second_start_inside_a_block_starts_it_again():
    assert blocks(b"\x0bhalf a mess\x0bMSH|one\x1c\r") == [Block(b"MSH|one", size=7, discarded=12)]


def test_an_end_without_its_carriage_return_is_not_an_end():
    assert blocks(b"\x0bMSH|a\x1cb\x1c\r") == [Block(b"MSH|a\x1cb", size=7)]


@pytest.mark.parametrize(("size", "limit"), [(LIMIT + 1, LIMIT), (30_000, 20_000)])
def test_an_oversized_block_is_read_to_its_end_keeping_its_head_only(size, limit):
    content = b"MSH|" + b"x" * (size - 4)
    found = blocks(b"\x0b" + content + b"\x1c\r", b"\x0bMSH|next\x1c\r", limit=limit)
    assert found[0].oversized and found[0].size == size
    assert content.startswith(found[0].content)
    assert min(limit, HEAD_BYTES) <= len(found[0].content) <= HEAD_BYTES  # enough for its MSH
    assert found[1] == Block(b"MSH|next", size=8)


def test_a_block_of_exactly_the_limit_is_read_whole():
    content = b"MSH|" + b"x" * (LIMIT - 4)
    assert blocks(b"\x0b" + content + b"\x1c\r") == [Block(content, size=LIMIT)]


def test_a_stream_ending_inside_a_block_gives_no_block():
    assert blocks(b"\x0bMSH|one\x1c\r\x0bMSH|half of it") == [Block(b"MSH|one", size=7)]


def test_the_log_reads_the_control_id_and_code_from_the_ack():
    ack = b"MSH#^~\\&#LABTRACK#LAB#MW#LAB#20261125##ACK^R01^ACK#X1#P#2.5.1\rMSA#AE#MW-7#why\r"
    assert Answered.of(ack) == Answered(ack, control_id="MW-7", code="AE")
    assert Answered.of(b"not an ack") == Answered(b"not an ack")
