"""``make bench``: HL7 ORU^R01 messages stored and acknowledged per second through the MLLP
listener (``manage.py hl7_listen``), over one connection and over ten at once, beside the same
messages posted to ``POST /api/v1/hl7/`` through gunicorn (``labtrack.gunicorn_conf``, three
processes as docker-compose runs it), by one client and by ten. Prints figures and ratios;
asserts nothing.

Each message carries one result for its own sample, waiting in a running batch with its
lifecycle run (seeded in bulk as ``intake_bench`` seeds them, in the bench's own database);
each side gets its own samples, so every message is recorded, none replayed. A sender waits
for each ACK before it sends its next message, as MLLP has it; each HTTP client keeps its
connection open. With ``BENCH_SIZE=small`` (``make bench-smoke``): 20 messages a measurement.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from hl7.client import MLLPClient

from tests.bench.common import prepare_environment, run, sized, title

MESSAGES = sized(600, 20)  # per measurement
CONNECTIONS = 10
LISTENER_THREADS = 4  # hl7_listen's default
WEB_WORKERS = 3  # as in docker-compose.yml
HL7_TYPE = "x-application/hl7-v2+er7"


def main() -> int:
    prepare_environment()
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from labtrack.celery import app
    from samples.models import Instrument
    from tests.bench.intake_bench import seed
    from tests.workers import redis_client, worker_broker_url

    # The doorbells the results ring go to the bench's own Redis db, emptied afterwards.
    app.conf.broker_url = settings.CELERY_BROKER_URL = worker_broker_url()
    call_command("migrate", verbosity=0)
    token, barcodes = seed(4 * MESSAGES)
    shares = [messages(barcodes[n * MESSAGES : (n + 1) * MESSAGES], f"M{n}") for n in range(4)]
    with listener(Instrument.objects.get().name) as port:
        mllp_one = measure(lambda: mllp_sender(port), shares[0], 1)
        mllp_ten = measure(lambda: mllp_sender(port), shares[1], CONNECTIONS)
    with web_server() as port:
        http_one = measure(lambda: http_sender(port, token), shares[2], 1)
        http_ten = measure(lambda: http_sender(port, token), shares[3], CONNECTIONS)
    redis_client(worker_broker_url()).flushdb()
    heading = "8. HL7 ORU^R01 messages stored and acknowledged, one result each"
    print("\n" + title(heading))
    print(f"   MLLP: manage.py hl7_listen ({LISTENER_THREADS} threads, one process);")
    print(f"   HTTP: POST /api/v1/hl7/, gunicorn x{WEB_WORKERS} (labtrack.gunicorn_conf)")
    print("                      MLLP        HTTP    MLLP / HTTP")
    for label, (over_mllp, over_http) in (
        ("1 connection  ", (mllp_one, http_one)),
        (f"{CONNECTIONS} connections", (mllp_ten, http_ten)),
    ):
        print(
            f"   {label}  {over_mllp:6.0f}/s   {over_http:6.0f}/s    {over_mllp / over_http:4.2f}x"
        )
    return 0


def messages(barcodes: list[str], prefix: str) -> list[bytes]:
    """One ORU^R01 per sample, a glucose result measured when received."""
    return [
        "\r".join(
            [
                "MSH|^~\\&|BENCH|LAB|LABTRACK|LAB|20261201080000||ORU^R01^ORU_R01|"
                f"{prefix}-{n}|P|2.5.1",
                f"PID|1||SUBJ-{barcode}",
                f"OBR|1||{barcode}|GLU^Glucose",
                "OBX|1|NM|GLU^Glucose||5.4|mmol/L|3.9-5.6|N|||F",
                "",
            ]
        ).encode()
        for n, barcode in enumerate(barcodes)
    ]


def measure(connect: Callable[[], Callable[[bytes], None]], bodies: list[bytes], clients: int):
    """Messages per second sent by ``clients`` senders at once, each on its own connection."""

    def send_all(share: list[bytes]) -> None:
        send = connect()
        for body in share:
            send(body)

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send_all, [bodies[n::clients] for n in range(clients)]))
    return len(bodies) / (time.perf_counter() - began)


def mllp_sender(port: int) -> Callable[[bytes], None]:
    client = MLLPClient("127.0.0.1", port)

    def send(body: bytes) -> None:
        answer = client.send_message(body)  # waits for the ACK
        while not answer.endswith(b"\x1c\r"):
            more = client.socket.recv(4096)
            if not more:
                raise RuntimeError("the listener closed the connection")
            answer += more
        acknowledged(answer[1:-2])

    return send


def http_sender(port: int, token: str) -> Callable[[bytes], None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Content-Type": HL7_TYPE}

    def send(body: bytes) -> None:
        connection.request("POST", "/api/v1/hl7/", body, headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"the post failed: {response.status} {answer[:300]!r}")
        acknowledged(answer)

    return send


def acknowledged(ack: bytes) -> None:
    if b"MSA|AA|" not in ack:
        raise RuntimeError(f"not recorded: {ack[:300]!r}")


@contextmanager
def listener(instrument: str) -> Iterator[int]:
    """``manage.py hl7_listen`` for ``instrument`` on this database; its port."""
    from tests.processes import REPO, free_port
    from tests.workers import worker_broker_url

    port = free_port()
    command = [sys.executable, "manage.py", "hl7_listen", "--instrument", instrument,
               "--port", str(port), "--threads", str(LISTENER_THREADS)]  # fmt: skip
    env = {**os.environ, "CELERY_BROKER_URL": worker_broker_url()}
    server = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"hl7_listen exited with {server.returncode}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("hl7_listen did not listen within 60 s") from None
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def web_server() -> Iterator[int]:
    """gunicorn as docker-compose's ``web`` runs it, on this database; its port."""
    from tests.processes import REPO, free_port, wait_for
    from tests.workers import worker_broker_url

    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--config", "python:labtrack.gunicorn_conf",
               "labtrack.wsgi:application"]  # fmt: skip
    env = {
        **os.environ,
        "CELERY_BROKER_URL": worker_broker_url(),
        "API_THROTTLE_RATE": "1000000/min",  # no throttling of the bench's clients
        "WEB_BIND": f"127.0.0.1:{port}",
        "WEB_WORKERS": str(WEB_WORKERS),
    }
    server = subprocess.Popen(command, cwd=REPO, env=env, stderr=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(run(main, "the MLLP bench"))
