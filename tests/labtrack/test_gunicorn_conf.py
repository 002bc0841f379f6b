"""The production web server (gunicorn with ``labtrack.gunicorn_conf``, as docker-compose's
``web`` runs it) given bytes that are not HTTP: an HL7 message sent over MLLP to the web port
by mistake is refused, and its content, patient data, reaches no log line, at any level."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import REPO, free_port, wait_for
from tests.web import compose_web_command
from tests.workers import worker_database_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

PATIENT = "DOE^JANE^Q"
SEGMENTS = [
    "MSH|^~\\&|MW-CHEM|CORE-LAB|LABTRACK|CORE-LAB|20261125100500||ORU^R01^ORU_R01|MW-9|P|2.5.1",
    f"PID|1||SUBJ-9^^^LAB^MR||{PATIENT}||19700101|F",
    "OBR|1||S-000961|CHEM",
    "OBX|1|NM|GLU^Glucose||6.1|mmol/L",
]


@pytest.fixture
def web(tmp_path):
    """The web service's command on a free port, logging at DEBUG, its output in a file."""
    port, log = free_port(), tmp_path / "web.log"
    program, *args = compose_web_command()
    env = dict(
        os.environ, DATABASE_URL=worker_database_url(), DEBUG="false", LOG_FORMAT="json",
        LOG_LEVEL="DEBUG", WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="1",
    )  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", program, *args], cwd=REPO, env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/livez", process)
        yield port, log
    finally:
        process.terminate()
        process.wait(timeout=30)


def send(port: int, data: bytes) -> bytes:
    """Send ``data`` as an MLLP client would, then wait (two seconds at most) for an answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(data)
        connection.settimeout(2)
        try:
            return connection.recv(65536)
        except TimeoutError:
            return b""  # gunicorn waits for the end of a request line that never comes


@pytest.mark.parametrize("end", ["\r", "\n", "\r\n"])
def test_an_mllp_message_sent_to_the_web_port_leaves_no_content_in_the_log(web, end):
    port, log = web
    answer = send(port, b"\x0b" + end.join(SEGMENTS).encode() + end.encode() + b"\x1c\r")
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400 Bad Request")
    send(port, b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # written after the first
    text = Path(log).read_text()
    for content in (PATIENT, "SUBJ-9", "MW-CHEM", "ORU^R01"):
        assert content not in text
    if answer:  # refused at once: the line says from where and what was wrong
        assert (
            "Invalid request from ip=127.0.0.1: Invalid HTTP request line "
            "(what was sent is not logged)"
        ) in text
