"""Reading a server-side cursor one chunk ahead: while the caller works on a chunk of rows, a
thread already fetches the next, so PostgreSQL and Python work at the same time instead of in
turn. At most ``ahead`` chunks wait in memory, so it stays flat however many rows there are.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

_END = object()


def chunks_read_ahead(cursor: Any, size: int, *, ahead: int = 2) -> Iterator[list[Any]]:
    """The rows of ``cursor`` (a psycopg cursor, its statement executed), ``size`` at a time.

    Stopping early (the generator closed) stops the reading thread before it returns, so the
    cursor is idle when its transaction ends; an error while fetching is raised here.
    """
    chunks: queue.Queue[Any] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand_over(item: Any) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            while rows := cursor.fetchmany(size):
                if not hand_over(rows):
                    return
            hand_over(_END)
        except BaseException as error:  # handed to the caller, who raises it
            hand_over(error)

    reader = threading.Thread(target=read, name="read-ahead", daemon=True)
    reader.start()
    try:
        while (item := chunks.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join()
