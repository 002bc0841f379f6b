"""``manage.py hl7_listen``: the MLLP door, started as a real process on the test database, one
listener per instrument; messages sent by python-hl7's ``mllp_send`` (and, for what it cannot
do, a raw socket). Each message is answered with its ACK once stored; the framing rules of
MLLP hold; the log names connections and control ids, never a message's content."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import hl7
import pytest

from samples.models import Assay, Instrument, InstrumentMessage, Result, UnmatchedResult
from tests.processes import REPO, free_port
from tests.samples.api.test_api_hl7 import CHEMISTRY, message, waiting  # noqa: F401
from tests.workers import worker_broker_url, worker_database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MLLP_SEND = Path(sys.executable).parent / "mllp_send"
VT, FS, CR = b"\x0b", b"\x1c", b"\r"
PATIENT = "SUBJ-S-000961"  # in every message's PID: never in the log


def listen_command(instrument: str, port: int, *more: str) -> list[str]:
    return [sys.executable, "manage.py", "hl7_listen", "--instrument", instrument,
            "--port", str(port), *more]  # fmt: skip


def environment() -> dict[str, str]:
    return dict(
        os.environ, DATABASE_URL=worker_database_url(), CELERY_BROKER_URL=worker_broker_url(),
        LOG_FORMAT="json", LOG_LEVEL="INFO",
    )  # fmt: skip


class Listener:
    """``manage.py hl7_listen`` for ``instrument`` on a free port, its log in a file."""

    def __init__(self, instrument: str, log: Path) -> None:
        self.port, self.log = free_port(), log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                listen_command(instrument, self.port), cwd=REPO, env=environment(),
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"hl7_listen exited: {log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("hl7_listen did not listen within 60 s") from None
                time.sleep(0.2)

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=30)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def text(self) -> str:
        return self.log.read_text()


@pytest.fixture
def listener(lab, tmp_path):
    started = Listener(lab.instrument.name, tmp_path / "mllp.log")
    yield started
    started.stop()
    assert PATIENT not in started.text()  # whatever the test sent


def framed(body: str | bytes) -> bytes:
    return VT + (body.encode() if isinstance(body, str) else body) + FS + CR


def sender(port: int, *bodies: str) -> list[str]:
    """``mllp_send`` sending ``bodies`` from a file (it reads standard input as text, which its
    framing code cannot split)."""
    with tempfile.NamedTemporaryFile("wb", suffix=".hl7", delete=False) as file:
        file.write(b"".join(framed(body) for body in bodies))
    return [str(MLLP_SEND), "--port", str(port), "--file", file.name, "127.0.0.1"]


def mllp_send(port: int, *bodies: str) -> list[hl7.Message]:
    """The bodies sent by ``mllp_send`` on one connection; the ACK of each."""
    sent = subprocess.run(sender(port, *bodies), capture_output=True, timeout=60)
    assert sent.returncode == 0, sent.stderr.decode()[-2000:]
    # Each ACK as received, then a newline (an ACK's segments end in CR: not lines to split).
    return [parse_ack(answer) for answer in sent.stdout.split(b"\n") if answer]


def parse_ack(framed_ack: bytes) -> hl7.Message:
    assert framed_ack.startswith(VT) and framed_ack.endswith(FS + CR), framed_ack
    return hl7.parse(framed_ack[1:-2].decode())


def read_ack(connection: socket.socket) -> hl7.Message:
    received = b""
    while not received.endswith(FS + CR):
        chunk = connection.recv(65536)
        assert chunk, f"the connection closed after {received!r}"
        received += chunk
    return parse_ack(received)


def msa(ack: hl7.Message) -> tuple[str, str]:
    segment = ack.segment("MSA")
    return segment.extract_field(field_num=1), segment.extract_field(field_num=2)


def chemistry(control_id: str = "MW-000123", barcode: str = "S-000961") -> str:
    header = CHEMISTRY[0].replace("MW-000123", control_id)
    return message(header, *(s.replace("S-000961", barcode) for s in CHEMISTRY[1:]))


@pytest.mark.usefixtures("waiting")
def test_a_message_is_stored_with_its_results_and_acknowledged(listener):
    (ack,) = mllp_send(listener.port, chemistry())
    assert msa(ack) == ("AA", "MW-000123")
    stored = InstrumentMessage.objects.get()
    assert (stored.kind, stored.door, stored.control_id) == ("hl7", "mllp", "MW-000123")
    assert stored.instrument.name == "Cobas-1" and stored.status_code == 201
    # mllp_send strips the last segment's CR before framing: the body is what was framed.
    assert stored.body == chemistry().rstrip("\r")
    results = Result.objects.filter(message=stored).order_by("assay__code")
    assert [(r.assay.code, r.value) for r in results] == [
        ("CREA", Decimal("52")),
        ("GLU", Decimal("6.1")),
    ]
    log = listener.text()
    assert '"control_id": "MW-000123"' in log and '"ack": "AA"' in log


def test_ten_connections_at_once_are_each_answered(lab, listener):
    """Ten senders at once, while an eleventh connection stays quiet: none waits for another."""
    Assay.objects.filter(code="GLU").update(batch_capacity=10)
    barcodes = [f"S-00070{n}" for n in range(10)]
    for barcode in barcodes:
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    lab.start_run()
    quiet = listener.connect()
    bodies = [  # no measurement time: measured when received, after each collection
        message(
            CHEMISTRY[0].replace("MW-000123", f"MW-7{n}"),
            f"OBR|1||{barcode}|GLU^Glucose",
            f"OBX|1|NM|GLU^Glucose||5.{n}|mmol/L|||||F",
        )
        for n, barcode in enumerate(barcodes)
    ]
    commands = [sender(listener.port, body) for body in bodies]
    senders = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in commands
    ]
    answers = [process.communicate(timeout=60) for process in senders]
    quiet.close()
    for n, (out, err) in enumerate(answers):
        assert msa(parse_ack(out.strip(b"\n"))) == ("AA", f"MW-7{n}"), err
    assert InstrumentMessage.objects.count() == 10
    recorded = Result.objects.values_list("sample__barcode", "message__control_id")
    assert sorted(recorded) == sorted((b, f"MW-7{n}") for n, b in enumerate(barcodes))


@pytest.mark.usefixtures("waiting")
def test_a_sender_gone_mid_message_stores_nothing_and_the_next_is_served(listener):
    whole = framed(chemistry())
    half = listener.connect()
    half.sendall(whole[: len(whole) // 2])
    half.close()
    (ack,) = mllp_send(listener.port, chemistry())
    assert msa(ack) == ("AA", "MW-000123")
    assert InstrumentMessage.objects.count() == 1 and Result.objects.count() == 2
    assert '"message": "mllp_closed_mid_message"' in listener.text()


@pytest.mark.usefixtures("waiting")
def test_bytes_before_a_block_are_discarded_and_the_block_is_taken(listener):
    with listener.connect() as connection:
        connection.sendall(b"GET / HTTP/1.1\r\n\r\nnoise" + framed(chemistry()))
        assert msa(read_ack(connection)) == ("AA", "MW-000123")
        connection.sendall(b"\r\n" + VT + b"more noise" + framed(chemistry("MW-000124")))
        assert msa(read_ack(connection))[1] == "MW-000124"
    assert [bytes(m.raw) for m in InstrumentMessage.objects.order_by("pk")] == [
        chemistry().encode(),
        chemistry("MW-000124").encode(),
    ]
    assert '"bytes_discarded": 23' in listener.text()


@pytest.mark.usefixtures("waiting")
def test_an_oversized_block_gets_an_ar_once_it_ends_and_the_connection_goes_on(listener):
    over = chemistry().replace("Chemistry panel", "x" * 1_000_000)
    with listener.connect() as connection:
        connection.sendall(framed(over))
        ack = read_ack(connection)
        assert msa(ack) == ("AR", "MW-000123")
        assert "over 1000000 bytes" in ack.segment("MSA").extract_field(field_num=3)
        assert not InstrumentMessage.objects.exists()
        connection.sendall(framed(chemistry("MW-000124")))
        assert msa(read_ack(connection)) == ("AA", "MW-000124")
    assert InstrumentMessage.objects.get().idempotency_key == "MW-000124"
    assert '"message": "mllp_message_too_large"' in listener.text()


@pytest.mark.usefixtures("waiting")
def test_a_deactivated_instruments_messages_get_an_ar_and_nothing_is_stored(lab, listener):
    Instrument.objects.filter(pk=lab.instrument.pk).update(is_active=False)
    (ack,) = mllp_send(listener.port, chemistry())
    assert msa(ack) == ("AR", "MW-000123")
    assert "deactivated" in ack.segment("MSA").extract_field(field_num=3)
    assert not (InstrumentMessage.objects.exists() or UnmatchedResult.objects.exists())
    assert not Result.objects.exists()


def test_it_stops_on_sigterm_closing_its_connections(listener):
    quiet = listener.connect()
    assert listener.stop() == 0
    assert quiet.recv(10) == b""  # closed by the listener
    assert '"message": "mllp_stopped"' in listener.text()


def test_a_message_under_way_at_sigterm_is_stored_and_answered_before_it_stops(listener):
    """500 results for samples nobody registered: each kept in the inbox, which takes long
    enough for the stop to arrive while the message is being stored."""
    obx = [f"OBX|{n}|NM|GLU^Glucose||5.{n % 10}|mmol/L|||||F" for n in range(1, 501)]
    body = message(CHEMISTRY[0], "OBR|1||S-404404|GLU", *obx)
    with listener.connect() as connection:
        connection.sendall(framed(body))
        time.sleep(0.3)  # read, and in a worker thread
        listener.process.send_signal(signal.SIGTERM)
        assert msa(read_ack(connection)) == ("AA", "MW-000123")
        assert connection.recv(10) == b""  # then closed
    assert listener.process.wait(timeout=30) == 0
    assert UnmatchedResult.objects.filter(message__control_id="MW-000123").count() == 500
    log = listener.text()
    assert log.index('"mllp_message_answered"') < log.index('"mllp_stopped"')


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("NOPE-1", "There is no instrument 'NOPE-1': register it first."),
        ("Cobas-1", "The instrument Cobas-1 is deactivated: it may not send results."),
    ],
)
def test_it_refuses_to_start_for_an_unknown_or_deactivated_instrument(instrument, name, why):
    Instrument.objects.filter(pk=instrument.pk).update(is_active=False)
    started = subprocess.run(
        listen_command(name, free_port()), cwd=REPO, env=environment(), capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert started.returncode == 1
    assert why in started.stderr
