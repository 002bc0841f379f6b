"""One list of the audit trail's event tables, read from the models (``samples.tracking``):
the trail's query reads each of them, the chain checks and anchors cover each, and the
database guards each. A model audited tomorrow is in all of them, or this fails."""

from __future__ import annotations

from labtrack.guards import PROTECTED_TABLES
from samples.selectors.audit import SOURCES
from samples.selectors.chains import AUDIT_TABLES, UNCONTEXTED
from samples.tracking import event_tables


def test_every_audited_model_has_an_event_table_in_the_list():
    tables = {t.table for t in event_tables()}
    assert {"samples_sampleevent", "samples_userevent", "samples_signinevent"} <= tables
    assert len(tables) == len(event_tables()) == 25


def test_the_trail_reads_every_event_table_once():
    assert sorted(s.table for s in SOURCES) == sorted(t.table for t in event_tables())


def test_the_chain_checks_cover_every_event_table_with_its_chains():
    assert {t.table: t.chain for t in event_tables()} == AUDIT_TABLES
    assert AUDIT_TABLES["samples_resultevent"] == "pgh_obj_id"  # a chain per record
    assert AUDIT_TABLES["samples_tokenevent"] == AUDIT_TABLES["samples_signinevent"] == ""
    assert {"samples_signinevent"} == UNCONTEXTED  # a sign-in names its own person


def test_the_database_guards_every_event_table():
    assert {t.table for t in event_tables()} <= set(PROTECTED_TABLES)
