"""What a destination may answer, over a real socket, and what the message then says: an
answer that is not an ACK, an ACK for another message, bytes that PostgreSQL cannot hold. Each
leaves the message failing with the reason (and raises for the workflow's retry); none is an
error of LabTrack's own."""

from __future__ import annotations

import socket
import threading

import pytest

from samples import services
from samples.models import Destination, OutboundMessage, OutboundStatus
from samples.services.outbox import DeliveryFailed


class RawPeer:
    """Answers every connection with ``answer``, framed as MLLP, whatever it received."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                received = b""
                while b"\x1c" not in received:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    received += chunk
                conn.sendall(b"\x0b" + self.answer + b"\x1c\r")

    def __enter__(self) -> RawPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.fixture
def message(lab):
    lab.register("S-000701")

    def make(port: int) -> OutboundMessage:
        Destination.objects.create(name="ward", protocol="mllp", host="127.0.0.1", port=port)
        [message_id] = services.outbox_prepare(
            barcode="S-000701", kind="original", prepared_by="test:answers"
        )
        return OutboundMessage.objects.get(pk=message_id)

    return make


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (b"HELLO\x00", "ValueError: the answer is not an HL7 message: 'HELLO"),
        (b"MSH|^~\\&|W|X|||1||ACK|A1|P|2.5.1\rMSA|AA|LT-OTHER", "the ACK answers LT-OTHER"),
        (b"MSH|^~\\&|W|X|||1||ACK|A1|P|2.5.1\rMSA|AR||bad\x00 \xff", "AR: bad \ufffd"),
    ],
)
def test_an_answer_that_does_not_acknowledge_leaves_the_message_failing(message, answer, error):
    with RawPeer(answer) as peer:
        sent = message(peer.port)
        with pytest.raises(DeliveryFailed):
            services.outbox_attempt(message_id=sent.pk)
    sent.refresh_from_db()
    assert sent.status == OutboundStatus.FAILING and sent.attempts == 1
    assert sent.last_error.startswith(error) and "\x00" not in sent.ack + sent.last_error
