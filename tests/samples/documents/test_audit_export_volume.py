"""The audit trail's CSV export at volume: with 100,000 lifecycle events in the database, the
export a compliance officer downloads holds exactly as many rows as the database does for the
selection, and opens in a spreadsheet (UTF-8 with a BOM, one row per entry, ISO 8601 UTC
times). The trail is seeded in bulk (``tests.audit_volume``)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection

from samples.documents.audit_export import COLUMNS
from samples.selectors.audit import SOURCES, AuditFilter, audit_count
from tests.audit_volume import EVENTS_PER_RUN, barcode, seed_trail

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.histories_not_replayed(
        "10,000 lifecycles seeded in bulk by SQL, not by the engine"
    ),
]

RUNS = 10_000  # 100,000 history events
SAMPLES = 1_000
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


@pytest.fixture
def large_trail(technician, reviewer):
    seed_trail(runs=RUNS, samples=SAMPLES, technician=technician, reviewer=reviewer)


def exported_rows(client, **chosen) -> tuple[list[str], list[list[str]], dict[str, str]]:
    """The CSV's header, its data rows and its manifest, read as a spreadsheet would."""
    response = client.get("/audit/export.csv", chosen)
    assert response.status_code == 200
    assert response.streaming
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    body, manifest = content.rsplit(b"\r\n\r\n", 1)
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    facts = {row[0]: row[1] for row in csv.reader(io.StringIO(manifest.decode())) if len(row) > 1}
    return rows[0], rows[1:], facts


def rows_in_database(sample: str = "") -> int:
    """Entries the database holds, counted table by table (for a sample: its lifecycle's
    events and its own record's events, the only records the seeded trail gives it)."""
    with connection.cursor() as cursor:
        if sample:
            cursor.execute(
                "SELECT (SELECT count(*) FROM workflows_historyevent AS h "
                "        JOIN samples_sample AS s ON s.run_id = h.run_id WHERE s.barcode = %s)"
                " + (SELECT count(*) FROM samples_sampleevent WHERE barcode = %s)",
                [sample, sample],
            )
        else:
            tables = ["workflows_historyevent", *(source.table for source in SOURCES)]
            cursor.execute(
                "SELECT " + " + ".join(f"(SELECT count(*) FROM {table})" for table in tables)
            )
        return cursor.fetchone()[0]


def test_the_whole_trail_exports_one_row_per_entry_in_the_database(
    large_trail, compliance_officer, signed_in
):
    header, data, facts = exported_rows(signed_in(compliance_officer))
    expected = rows_in_database()
    assert expected >= RUNS * EVENTS_PER_RUN + SAMPLES
    assert len(data) == expected == audit_count(AuditFilter())
    assert facts["# rows"] == str(expected)
    assert header == COLUMNS
    assert all(len(row) == len(COLUMNS) for row in data)
    times = [row[0] for row in data]
    assert all(ISO_UTC.fullmatch(time) for time in times)
    assert times == sorted(times)  # oldest first
    assert (facts["# from"], facts["# to"]) == (times[0], times[-1])


def test_a_filtered_export_holds_exactly_the_selection(large_trail, compliance_officer, signed_in):
    chosen = barcode(SAMPLES // 2)
    header, data, facts = exported_rows(signed_in(compliance_officer), sample=chosen)
    expected = rows_in_database(chosen)
    assert expected == EVENTS_PER_RUN + 1  # its lifecycle, and its registration
    assert len(data) == expected == audit_count(AuditFilter(sample=chosen))
    assert {row[header.index("sample")] for row in data} == {chosen}
    assert all(ISO_UTC.fullmatch(row[0]) for row in data)
    assert facts["# rows"] == str(expected)
    assert facts["# filter sample"] == chosen
