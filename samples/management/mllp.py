"""An MLLP server: HL7 v2 messages over TCP, framed by the Minimal Lower Layer Protocol (HL7
v2.x transport specification, MLLP release 2), served with asyncio and python-hl7's MLLP
streams. Nothing here knows the lab: each message is handed to ``answer`` (synchronous code,
run in a worker thread so that many connections are served at once) and what it returns is
written back as one block. ``manage.py hl7_listen`` gives it the lab's answer.

Framing, as MLLP release 2 has the receiver treat it:

- a block is ``<VT>`` (0x0B), the message, ``<FS><CR>`` (0x1C 0x0D); the answer goes back
  framed the same way, one answer per block, in order, and only once ``answer`` has returned
  (for the lab: once the message is committed);
- bytes outside a block (before its ``<VT>``) are not a message: they are discarded, counted in
  the log, and the block after them is read as usual. A ``<VT>`` inside a block starts it again
  (MLLP content never holds one): the bytes before it are discarded the same way. The library's
  own ``readblock`` cannot be used for this: it throws the stray bytes away together with the
  block that follows them;
- a block over ``max_bytes`` is answered by ``too_large`` (the lab: an AR) once the block has
  ended, its bytes discarded as they arrive, never held; the connection stays open. Release 2
  is a one-block-at-a-time exchange: the sender writes its block whole, then waits for the
  answer. Answering and closing in the middle of the block would reset the connection under
  a sender still writing, and the answer could be lost with it; answered at its end, the
  sender reads why and goes on with its next message;
- a connection that ends inside a block (the sender gone, the network cut) has sent no
  message: nothing is handed on, nothing stored, and the sender (which got no answer) sends it
  again, as MLLP has it. The other connections are not disturbed.

Stopping (SIGTERM, SIGINT): no new connection is taken, connections waiting for a block are
closed, and a message being answered is answered before its connection closes.

The log names each connection (a number and the peer's address) and each message by its
control id (MSH-10, read from the answer) and acknowledgement code; never its content, which
holds patient data. A connection that sends nothing (a health check) is logged at DEBUG only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hl7.mllp import start_hl7_server
from hl7.mllp.streams import CARRIAGE_RETURN, END_BLOCK, START_BLOCK

log = logging.getLogger("samples.mllp")

END = END_BLOCK + CARRIAGE_RETURN
# What is kept of an oversized block: enough for its header (MSH), to answer it by its control id.
HEAD_BYTES = 4096


@dataclass(frozen=True)
class Answered:
    """What a block is answered with (unframed), and what the log says of it."""

    ack: bytes
    control_id: str = ""
    code: str = ""

    @classmethod
    def of(cls, ack: bytes) -> Answered:
        """The answer, with its MSA-1 and MSA-2 read from it (an HL7 ACK, segments ending in
        CR, its field separator the one its MSH names)."""
        text = ack.decode("utf-8", errors="replace")
        separator = text[3:4] if text.startswith("MSH") else "|"
        for segment in text.split("\r"):
            if separator and segment.startswith("MSA" + separator):
                fields = segment.split(separator)
                return cls(ack, fields[2] if len(fields) > 2 else "", fields[1])
        return cls(ack)


@dataclass(frozen=True)
class Block:
    """One block read: its content, or, when over the limit, its first bytes only."""

    content: bytes
    oversized: bool = False
    size: int = 0  # of the whole content, oversized or not
    discarded: int = 0  # stray bytes before it (outside a block, or before a second VT)


async def read_block(reader: asyncio.StreamReader, max_bytes: int) -> Block:
    """The next block from ``reader`` (whose limit is ``max_bytes``). Raises
    ``asyncio.IncompleteReadError`` when the connection ends before a block is whole."""
    discarded = 0
    while True:  # everything up to the block's start is stray
        try:
            discarded += len(await reader.readuntil(START_BLOCK)) - 1
            break
        except asyncio.LimitOverrunError as overrun:
            discarded += len(await reader.read(overrun.consumed))
    try:
        content = (await reader.readuntil(END))[: -len(END)]
    except asyncio.LimitOverrunError as overrun:
        head = await reader.read(overrun.consumed)
        size = len(head) + await _discard_to_end(reader)
        return Block(head[:HEAD_BYTES], oversized=True, size=size, discarded=discarded)
    restart = content.rfind(START_BLOCK)
    if restart >= 0:
        discarded += restart + 1
        content = content[restart + 1 :]
    return Block(content, size=len(content), discarded=discarded)


async def _discard_to_end(reader: asyncio.StreamReader) -> int:
    """Reads the rest of an oversized block without keeping it; returns how many bytes."""
    count = 0
    while True:
        try:
            return count + len(await reader.readuntil(END)) - len(END)
        except asyncio.LimitOverrunError as overrun:
            count += len(await reader.read(overrun.consumed))


class MllpServer:
    """Serves MLLP on ``host``:``port``: each block goes to ``answer`` (run in one of
    ``threads`` worker threads; ``too_large`` for a block over ``max_bytes``, given its first
    bytes), and its answer is written back framed."""

    def __init__(
        self,
        *,
        answer: Callable[[bytes], Answered],
        too_large: Callable[[bytes], Answered],
        host: str,
        port: int,
        max_bytes: int,
        threads: int = 4,
        name: str = "",
    ) -> None:
        self.answer, self.too_large = answer, too_large
        self.host, self.port, self.max_bytes, self.name = host, port, max_bytes, name
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="mllp")
        self.stopping = asyncio.Event()
        self.numbers = itertools.count(1)
        self.waiting: set[asyncio.Task[Any]] = set()  # connections reading, not answering
        self.connections: set[asyncio.Task[Any]] = set()

    async def serve(self) -> None:
        """Serve until ``stop()``; then finish the answers under way and return."""
        server = await start_hl7_server(self._connected, self.host, self.port, limit=self.max_bytes)
        bound = ", ".join(_address(s.getsockname()) for s in server.sockets)
        log.info("mllp_listening", extra={"listener": self.name, "address": bound})
        try:
            await self.stopping.wait()
        finally:
            server.close()
            for task in list(self.waiting):
                task.cancel()
            if self.connections:
                await asyncio.wait(list(self.connections))
            await server.wait_closed()
            self.pool.shutdown(wait=True)
            log.info("mllp_stopped", extra={"listener": self.name})

    def stop(self) -> None:
        self.stopping.set()

    async def _connected(self, reader: asyncio.StreamReader, writer: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections.add(task)
        connection = f"#{next(self.numbers)} {_address(writer.get_extra_info('peername'))}"
        log.debug("mllp_connected", extra={"connection": connection})
        try:
            await self._serve_connection(connection, reader, writer)
        except asyncio.CancelledError:
            log.info("mllp_closed_on_stop", extra={"connection": connection})
        except (ConnectionError, OSError) as lost:
            log.info(
                "mllp_connection_lost",
                extra={"connection": connection, "error": type(lost).__name__},
            )
        finally:
            self.connections.discard(task)
            self.waiting.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve_connection(self, connection: str, reader: Any, writer: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        loop = asyncio.get_running_loop()
        answered_count = 0
        while not self.stopping.is_set():
            self.waiting.add(task)
            try:
                block = await read_block(reader, self.max_bytes)
            except asyncio.IncompleteReadError as ended:
                if ended.partial.strip():
                    log.warning(
                        "mllp_closed_mid_message",
                        extra={"connection": connection, "bytes_dropped": len(ended.partial)},
                    )
                else:  # a probe that only connects is not news: logged at DEBUG
                    level = logging.INFO if answered_count else logging.DEBUG
                    fields = {"connection": connection, "messages": answered_count}
                    log.log(level, "mllp_disconnected", extra=fields)
                return
            finally:
                self.waiting.discard(task)
            if block.discarded:
                log.warning(
                    "mllp_bytes_outside_a_block",
                    extra={"connection": connection, "bytes_discarded": block.discarded},
                )
            began = time.perf_counter()
            handler = self.too_large if block.oversized else self.answer
            answered = await loop.run_in_executor(self.pool, handler, block.content)
            writer.writeblock(answered.ack)
            await writer.drain()
            answered_count += 1
            fields = {
                "connection": connection,
                "control_id": answered.control_id,
                "ack": answered.code,
                "bytes": block.size,
                "ms": round((time.perf_counter() - began) * 1000),
            }
            if block.oversized:
                log.warning("mllp_message_too_large", extra={**fields, "limit": self.max_bytes})
            else:
                log.info("mllp_message_answered", extra=fields)


def _address(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)
