"""Reading a server-side cursor a chunk ahead (the audit exports): every row once and in
order, an early stop leaves no reading thread behind, and an error while fetching is raised."""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.db import connection, transaction

from samples.selectors.read_ahead import chunks_read_ahead

pytestmark = pytest.mark.django_db


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "read-ahead"]


def _server_cursor(statement: str):
    cursor = connection.chunked_cursor()
    cursor.execute(statement)
    return cursor


def test_every_row_once_in_order_in_chunks():
    with transaction.atomic():
        cursor = _server_cursor("SELECT n FROM generate_series(1, 12000) AS n ORDER BY n")
        sizes, rows = [], []
        for chunk in chunks_read_ahead(cursor.cursor, 5000):
            sizes.append(len(chunk))
            rows += [n for (n,) in chunk]
    assert sizes == [5000, 5000, 2000]
    assert rows == list(range(1, 12001))
    assert _readers() == []


def test_stopping_early_stops_the_reader_and_leaves_the_connection_usable():
    with transaction.atomic():
        cursor = _server_cursor("SELECT n FROM generate_series(1, 100000) AS n")
        chunks = chunks_read_ahead(cursor.cursor, 1000)
        first = next(chunks)
        chunks.close()
        assert len(first) == 1000
        assert _readers() == []
        with connection.cursor() as other:
            other.execute("SELECT 41 + 1")
            assert other.fetchone() == (42,)


def test_an_error_while_fetching_is_raised_to_the_reader():
    with transaction.atomic():
        cursor = _server_cursor("SELECT 1 / (n - 7000) FROM generate_series(1, 9000) AS n")
        seen = 0
        with pytest.raises(psycopg.errors.DivisionByZero):
            for chunk in chunks_read_ahead(cursor.cursor, 1000):
                seen += len(chunk)
        transaction.set_rollback(True)
    assert seen == 6000
    assert _readers() == []
