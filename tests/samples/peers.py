"""Ordering systems for the results-out tests, on real sockets: an MLLP peer (python-hl7's
``start_hl7_server`` in a thread with its own event loop) and an HTTP peer (``http.server`` in
a thread). Each keeps the messages it received and answers as told: ``AA``, ``AE``, ``AR``,
or ``silent`` (reads the message and never answers); ``then``: the answer to every message
after the first. ``closed_port()`` is a port where nothing
listens (the connection is refused)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import hl7
import hl7.mllp


def ack_for(message: hl7.Message, code: str) -> str:
    ack = message.create_ack(ack_code=code, application="ORDERS", facility="WARD")
    text = str(ack).rstrip("\r")
    if code != "AA":
        text += "\rERR|||207^Application internal error^HL70357|E||||unknown ward"
    return text


class MllpPeer:
    def __init__(self, answer: str = "AA", then: str = "") -> None:
        self.answer, self.then = answer, then
        self.received: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.server: Any = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    async def _connected(self, reader: Any, writer: Any) -> None:
        try:
            while True:
                message = await reader.readmessage()
                self.received.append(str(message))
                answer = self.answer
                self.answer = self.then or self.answer
                if answer == "silent":
                    continue
                writer.writemessage(hl7.parse(ack_for(message, answer)))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def __enter__(self) -> MllpPeer:
        self.thread.start()
        started = asyncio.run_coroutine_threadsafe(
            hl7.mllp.start_hl7_server(self._connected, "127.0.0.1", 0, encoding="utf-8"), self.loop
        )
        self.server = started.result(timeout=10)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        async def close() -> None:
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


class HttpPeer:
    def __init__(self, answer: str = "AA") -> None:
        self.answer = answer
        self.received: list[str] = []
        self.content_types: list[str] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                peer.received.append(body)
                peer.content_types.append(self.headers.get("Content-Type", ""))
                ack = ack_for(hl7.parse(body), peer.answer).encode()
                self.send_response(200 if peer.answer == "AA" else 422)
                self.send_header("Content-Type", "x-application/hl7-v2+er7")
                self.send_header("Content-Length", str(len(ack)))
                self.end_headers()
                self.wfile.write(ack)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hl7"

    def __enter__(self) -> HttpPeer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def closed_port() -> int:
    """A port on this machine where nothing listens."""
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
