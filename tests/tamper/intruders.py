"""An intruder's connection, and what the tampering tests look at."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
import pytest

from labtrack.guards import PROTECTED_TABLES


@dataclass
class Intruder:
    """A connection of its own (autocommit) and the role it connects as."""

    role: str
    conn: psycopg.Connection

    def refused(self, statement: str, *params: object) -> psycopg.Error:
        """Run ``statement``, which must fail; the error is returned for a closer look."""
        with pytest.raises(psycopg.Error) as refusal:
            self.conn.execute(statement, params or None)
        return refusal.value

    def ignore_every_trigger(self) -> None:
        """What django-pgtrigger's ``pgtrigger.ignore`` would do: list every trigger there is."""
        names = [row[0] for row in self.conn.execute("SELECT DISTINCT tgname FROM pg_trigger")]
        listed = "{" + ",".join(names) + "}"
        self.conn.execute("SELECT set_config('pgtrigger.ignore', %s, false)", [listed])

    def scalar(self, statement: str, *params: object) -> object:
        row = self.conn.execute(statement, params or None).fetchone()
        return None if row is None else row[0]


def row_counts(intruder: Intruder) -> dict[str, int]:
    """Rows in each trail table, as the intruder's connection sees them."""
    return {
        table: int(intruder.scalar(f'SELECT count(*) FROM "{table}"'))  # type: ignore[arg-type]
        for table in PROTECTED_TABLES
    }
