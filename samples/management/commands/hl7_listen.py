"""``manage.py hl7_listen --instrument NAME [--port 2575] [--host 127.0.0.1] [--threads 4]``:
the MLLP door, HL7 v2 ORU^R01 messages over TCP from one instrument (or its middleware).

One listener per instrument: whatever arrives on its port is that instrument's, as a token
names the instrument on the HTTP door. It refuses to start for an unknown or deactivated
instrument. Each message goes to ``hl7_receive``, the same function as ``POST /api/v1/hl7/``'s,
and its ACK is sent back once the message is committed. A message arriving after the instrument
was deactivated gets an AR and nothing is stored (the HTTP door answers 403). Framing and
stopping: ``samples/management/mllp.py``; the rules: docs/api.md, "The MLLP door"."""

from __future__ import annotations

import asyncio
import logging
import signal
import traceback
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections, connections

from samples.management.mllp import Answered, MllpServer
from samples.models import Instrument
from samples.selectors.setup import instrument_named, instrument_of, is_active_instrument
from samples.services.hl7 import (
    APPLICATION_ERROR,
    MAX_MESSAGE_BYTES,
    Hl7Rejected,
    Problem,
    oru_ack,
    oru_read,
)
from samples.services.hl7_intake import hl7_receive

log = logging.getLogger("samples.mllp")

DEFAULT_PORT = 2575  # the port IANA lists for HL7 over MLLP


class Command(BaseCommand):
    help = "Take HL7 v2 result messages over MLLP (TCP) from one instrument."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--instrument", required=True, help="its name, e.g. CHEM-1")
        parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="default 2575")
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
        parser.add_argument(
            "--threads", type=int, default=4, help="messages stored at once (default 4)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name, threads = options["instrument"], options["threads"]
        if threads < 1:
            raise CommandError("--threads must be 1 or more.")
        instrument = instrument_named(name)
        if instrument is None:
            raise CommandError(f"There is no instrument {name!r}: register it first.")
        if not _may_send(instrument):
            raise CommandError(f"The instrument {name} is deactivated: it may not send results.")
        door = InstrumentDoor(instrument)
        server = MllpServer(
            answer=door.answer,
            too_large=door.too_large,
            host=options["host"],
            port=options["port"],
            max_bytes=door.max_bytes,
            threads=threads,
            name=instrument.name,
        )
        connections.close_all()  # this thread is done with the database: the workers use theirs
        try:
            asyncio.run(_serve(server))
        except OSError as error:  # the port is taken, or the address is not this machine's
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {error.strerror}"
            ) from None


async def _serve(server: MllpServer) -> None:
    loop = asyncio.get_running_loop()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop_signal, server.stop)
    await server.serve()


def _may_send(instrument: Instrument) -> bool:
    user = instrument.service_user
    return bool(user.is_active and is_active_instrument(user))


class InstrumentDoor:
    """The lab's answer to a block from ``instrument``, in a worker thread: its database
    connections are those of the thread, checked before and after each message as a request's
    are."""

    def __init__(self, instrument: Instrument) -> None:
        self.pk, self.name = instrument.pk, instrument.name
        self.max_bytes = int(getattr(settings, "HL7_MAX_BYTES", MAX_MESSAGE_BYTES))

    def answer(self, raw: bytes) -> Answered:
        close_old_connections()
        try:
            instrument = instrument_of(self.pk)
            if instrument is None or not _may_send(instrument):
                return _refusal(
                    raw, f"The instrument {self.name} is deactivated: its messages are refused."
                )
            answer = hl7_receive(client=instrument.service_user, raw=raw, door="mllp")
            return Answered.of(answer.encoded())
        except Exception as error:  # the database out of reach...: nothing was committed
            log.error(
                "mllp_message_failed",
                extra={
                    "listener": self.name,
                    "error": type(error).__name__,
                    # Where, not what: an error's text may quote the message.
                    "where": "".join(traceback.format_tb(error.__traceback__)),
                },
            )
            return _refusal(raw, "LabTrack could not take the message now: send it again.")
        finally:
            close_old_connections()

    def too_large(self, head: bytes) -> Answered:
        return _refusal(head, f"The message is over {self.max_bytes} bytes: it was not read.")


def _refusal(raw: bytes, why: str) -> Answered:
    """An AR for a message not taken: its header mirrored and its control id echoed when they
    can be read from its first segment."""
    ack = oru_ack(_header(raw), "AR", why, [Problem(why, APPLICATION_ERROR)])
    return Answered.of(ack.encode("utf-8"))


def _header(raw: bytes) -> Any:
    """The message's MSH as the library reads it (None when it cannot be read)."""
    first = raw.replace(b"\n", b"\r").split(b"\r", 1)[0].decode("utf-8", errors="replace")
    try:
        oru_read(first.replace("\x00", ""))
    except Hl7Rejected as rejected:  # a header alone has no OBX: always refused, read or not
        return rejected.message
    return None
