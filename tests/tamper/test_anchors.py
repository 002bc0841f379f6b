"""Tampering that the hash chains alone cannot see, seen against an anchor of the chain heads
kept outside the database: the newest events of a chain deleted, a chain rewritten whole with
its hashes recomputed, a chain deleted whole; and an anchor file tampered with. Each attempt is
made as a database superuser with the guards off (``tests.tamper.attacker``)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from samples.models import AssayEvent, ChainCheck
from samples.selectors.chains import audit_verify
from samples.services.anchors import anchor_make, anchor_verify, audit_check
from tests.samples.lab import make_assay
from tests.tamper.attacker import superuser_sql
from workflows.api import signal, start, workflow
from workflows.models import HistoryEvent
from workflows.testing import WorkflowTestEnv

# The attacker's connection sees only what is committed; the guards are switched off there.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.histories_not_replayed("histories are tampered with on purpose"),
]


@workflow("t.anchored")
async def anchored(ctx, barcode):
    note = await ctx.wait_signal("note")
    return {"barcode": barcode, "note": note}


@pytest.fixture
def run_id():
    with WorkflowTestEnv() as env:
        run = start("t.anchored", "S-1")
        env.run_until_idle()
        signal(run, "note", "first", actor="tess", reason="why")
        env.run_until_idle()
    return run


@pytest.fixture
def glucose():
    assay = make_assay()
    for high in ("6.0", "6.1", "6.2"):
        assay.reference_high = Decimal(high)
        assay.save()
    return assay


def history_seqs(run):
    return list(
        HistoryEvent.objects.filter(run_id=run).order_by("seq").values_list("seq", flat=True)
    )


def assay_rows(assay):
    return list(
        AssayEvent.objects.filter(pgh_obj=assay).order_by("pgh_id").values_list("pgh_id", flat=True)
    )


def problems():
    return [(f.where, f.problem) for f in anchor_verify().findings]


def test_deleting_newest_events_of_a_history_is_detected_by_anchor(run_id, glucose):
    anchor_make()
    seqs = history_seqs(run_id)
    kept = seqs[-3]
    superuser_sql(
        ["workflows_historyevent", "workflows_run"],
        f"DELETE FROM workflows_historyevent WHERE run_id = '{run_id}' AND seq > {kept}",
        f"UPDATE workflows_run SET last_seq = {kept} WHERE id = '{run_id}'",  # cover the tracks
    )
    assert audit_verify().intact  # the chains alone cannot tell a shorter history
    [(where, problem)] = problems()
    assert where == f"run {run_id}"
    assert problem.startswith(f"events deleted after event {kept} (anchored ")
    assert problem.endswith(f" up to event {seqs[-1]})")
    with pytest.raises(CommandError, match=r"1 of [0-9]+ chains are broken"):
        call_command("audit", "verify")
    recorded = ChainCheck.objects.latest("pk")
    assert not recorded.intact
    assert recorded.findings == [{"where": where, "problem": problem}]


def test_deleting_newest_events_of_a_record_is_detected_by_anchor(glucose):
    anchor_make()
    rows = assay_rows(glucose)
    superuser_sql(
        ["samples_assayevent"],
        f"DELETE FROM samples_assayevent WHERE pgh_id > {rows[1]} AND pgh_obj_id = {glucose.pk}",
    )
    assert audit_verify().intact
    [(where, problem)] = problems()
    assert where == f"samples_assayevent record {glucose.pk}"
    assert problem.startswith(f"events deleted after row {rows[1]} (anchored ")
    assert problem.endswith(f" up to row {rows[-1]})")


def test_rewriting_a_whole_record_chain_consistently_is_detected_by_anchor(glucose):
    anchor_make()
    superuser_sql(
        ["samples_assayevent"],
        f"""
        DO $$
        DECLARE e record; prev text := repeat('0', 64);
        BEGIN
            PERFORM set_config('TimeZone', 'UTC', true);
            FOR e IN SELECT pgh_id FROM samples_assayevent
                     WHERE pgh_obj_id = {glucose.pk} ORDER BY pgh_id LOOP
                UPDATE samples_assayevent SET name = 'Sugar', pgh_prev_hash = prev
                WHERE pgh_id = e.pgh_id;
                UPDATE samples_assayevent AS t SET pgh_hash = audit_digest(to_jsonb(t), prev)
                WHERE pgh_id = e.pgh_id RETURNING pgh_hash INTO prev;
            END LOOP;
        END $$
        """,
    )
    assert set(AssayEvent.objects.filter(pgh_obj=glucose).values_list("name", flat=True)) == {
        "Sugar"
    }
    assert audit_verify().intact  # rewritten whole, hashes and links recomputed
    [(where, problem)] = problems()
    assert where == f"samples_assayevent record {glucose.pk}"
    assert problem.startswith(f"chain rewritten: row {assay_rows(glucose)[-1]} no longer holds")


def test_rewriting_a_whole_history_consistently_is_detected_by_anchor(run_id):
    anchor_make()
    superuser_sql(
        ["workflows_historyevent"],
        f"""
        UPDATE workflows_historyevent SET actor = 'someone else'
        WHERE run_id = '{run_id}' AND actor <> '';
        DO $$
        DECLARE e record; prev text := repeat('0', 64);
        BEGIN
            FOR e IN SELECT id FROM workflows_historyevent
                     WHERE run_id = '{run_id}' ORDER BY seq LOOP
                UPDATE workflows_historyevent AS t SET prev_hash = prev,
                       hash = history_digest(t, prev)
                WHERE id = e.id RETURNING hash INTO prev;
            END LOOP;
        END $$
        """,
    )
    assert "someone else" in HistoryEvent.objects.filter(run_id=run_id).values_list(
        "actor", flat=True
    )
    assert audit_verify().intact
    [(where, problem)] = problems()
    assert where == f"run {run_id}"
    assert problem.startswith(f"chain rewritten: event {history_seqs(run_id)[-1]} no longer")


def test_deleting_a_whole_chain_is_detected_by_anchor(glucose):
    other = make_assay("CREA", name="Creatinine", units="umol/L")
    anchor_make()
    superuser_sql(
        ["samples_assayevent"], f"DELETE FROM samples_assayevent WHERE pgh_obj_id = {other.pk}"
    )
    assert audit_verify().intact
    [(where, problem)] = problems()
    assert where == f"samples_assayevent record {other.pk}"
    assert problem.startswith("chain deleted: anchored ")


def test_an_untouched_trail_is_intact_against_its_anchor(run_id, glucose, capsys):
    path = anchor_make()
    assert problems() == []
    call_command("audit", "verify")
    out = capsys.readouterr().out
    assert f"Checked against the anchor {path}." in out
    assert "every chain is intact" in out


def test_events_added_after_the_anchor_leave_the_trail_intact(run_id, glucose):
    anchor_make()
    glucose.reference_high = Decimal("7.0")
    glucose.save()
    make_assay("CREA", name="Creatinine", units="umol/L")
    with WorkflowTestEnv() as env:
        start("t.anchored", "S-2")
        env.run_until_idle()
    assert audit_check(trigger="command").intact


def test_a_tampered_anchor_file_is_a_signature_finding(run_id, glucose):
    path = anchor_make()
    rows = assay_rows(glucose)
    superuser_sql(
        ["samples_assayevent"], f"DELETE FROM samples_assayevent WHERE pgh_id = {rows[-1]}"
    )
    # ... and the anchor edited to match: the assay's chain ending one row earlier.
    lines = path.read_bytes().splitlines(keepends=True)
    edited = []
    for line in lines:
        record = json.loads(line)
        if record.get("chain") == "samples_assayevent" and record["id"] == glucose.pk:
            previous = AssayEvent.objects.get(pgh_id=rows[-2])
            record |= {"last": rows[-2], "row": rows[-2], "hash": previous.pgh_hash, "events": 3}
            line = json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        edited.append(line)
    path.write_bytes(b"".join(edited))
    assert problems() == [
        ("audit anchors", f"the anchor {path.name} cannot be trusted: "
         "its signature does not match its content"),
    ]  # fmt: skip


def test_an_anchor_signed_with_another_key_is_a_finding(glucose, settings, tmp_path):
    call_command("audit", "anchor")  # signed with the lab's key
    lab_key = settings.AUDIT_ANCHOR_KEY_FILE
    settings.AUDIT_ANCHOR_KEY_FILE = tmp_path / "forger.pem"
    forged = anchor_make()  # a newer one with a key of its own, its public key put beside
    settings.AUDIT_ANCHOR_KEY_FILE = lab_key
    [(where, problem)] = problems()
    assert where == "audit anchors"
    assert problem == (
        f"the anchor {forged.name} cannot be trusted: "
        "it is signed with another key than the anchors' key"
    )


def test_an_anchor_without_its_key_is_a_finding(glucose, settings, tmp_path):
    path = anchor_make()
    settings.AUDIT_ANCHOR_KEY_FILE = tmp_path / "elsewhere.pem"
    settings.AUDIT_ANCHOR_KEY_CREATE = False
    [(where, problem)] = problems()
    assert where == "audit anchors"
    assert problem.startswith(f"the anchor {path.name} cannot be checked: no anchor signing key")


def test_removing_every_anchor_is_a_finding(glucose):
    path = anchor_make()
    path.unlink()
    [(where, problem)] = problems()
    assert where == "audit anchors"
    assert problem.startswith("no anchor is left in ")
