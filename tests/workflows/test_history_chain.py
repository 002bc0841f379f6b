"""The workflow history is append-only in the database and each run's events are hash-chained,
so a change made around the application (even by a superuser with the triggers off) is found by
``audit verify``, which names the first broken event (COMPLIANCE.md C4, C5)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from tests.database_roles import rewrite_around_triggers
from workflows.api import signal, start, workflow
from workflows.models import HistoryEvent
from workflows.ops import HeadChange, history_heads, history_heads_check, verify_history
from workflows.testing import WorkflowTestEnv

pytestmark = pytest.mark.django_db


@workflow("t.chained")
async def chained(ctx, barcode):
    note = await ctx.wait_signal("note")
    return {"barcode": barcode, "note": note}


@pytest.fixture
def finished_run():
    with WorkflowTestEnv() as env:
        run_id = start("t.chained", "S-1")
        env.run_until_idle()
        signal(run_id, "note", "first", actor="tess", reason="why")
        env.run_until_idle()
    return run_id


def raw(sql, *params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_each_event_links_to_the_one_before_it(finished_run):
    events = list(HistoryEvent.objects.filter(run_id=finished_run).order_by("seq"))
    assert len(events) >= 3
    assert events[0].prev_hash == "0" * 64
    for before, after in pairwise(events):
        assert after.prev_hash == before.hash and len(after.hash) == 64
    report = verify_history()
    assert report.intact and report.events == len(events) and report.runs == 1


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE workflows_historyevent SET reason = 'edited' WHERE run_id = %s",
        "DELETE FROM workflows_historyevent WHERE run_id = %s",
    ],
)
def test_raw_sql_cannot_update_or_delete_history(finished_run, sql):
    before = list(HistoryEvent.objects.filter(run_id=finished_run).values_list("reason", "hash"))
    refused = r"append-only|permission denied"
    with pytest.raises(DatabaseError, match=refused), transaction.atomic():
        raw(sql, finished_run)
    after = list(HistoryEvent.objects.filter(run_id=finished_run).values_list("reason", "hash"))
    assert after == before


def without_append_only_trigger(sql, *params):
    """What the owner of the table (or a superuser) could do: switch its triggers off, change
    the table, switch them on. On a connection of its own: such tests are transaction=True."""
    rewrite_around_triggers("workflows_historyevent", sql, *params)


@pytest.mark.django_db(transaction=True)
def test_a_changed_event_is_reported_by_audit_verify(finished_run):
    signal_event = HistoryEvent.objects.get(run_id=finished_run, kind="signal_received")
    without_append_only_trigger(
        "UPDATE workflows_historyevent SET data = jsonb_set(data, '{payload}', '\"forged\"') "
        "WHERE id = %s",
        signal_event.pk,
    )
    [broken] = verify_history().broken
    assert (broken.run_id, broken.seq, broken.event_id) == (
        finished_run,
        signal_event.seq,
        signal_event.pk,
    )
    assert broken.problem == "its content does not match its hash"
    with pytest.raises(CommandError, match=r"1 of [0-9]+ chains are broken"):
        call_command("audit", "verify")


@pytest.mark.histories_not_replayed("the test removes events: a tampered history")
@pytest.mark.django_db(transaction=True)
def test_a_removed_event_is_reported(finished_run):
    events = list(HistoryEvent.objects.filter(run_id=finished_run).order_by("seq"))
    without_append_only_trigger("DELETE FROM workflows_historyevent WHERE id = %s", events[1].pk)
    [broken] = verify_history().broken
    assert broken.seq == 3 and "event 2 before it is missing" in broken.problem


@pytest.mark.django_db(transaction=True)
def test_an_event_rewritten_with_a_new_hash_breaks_the_link_to_the_next(finished_run):
    events = list(HistoryEvent.objects.filter(run_id=finished_run).order_by("seq"))
    without_append_only_trigger(
        "UPDATE workflows_historyevent SET actor = 'someone else' WHERE id = %s", events[1].pk
    )
    # The forger recomputes the changed event's hash (from the row as it now is).
    without_append_only_trigger(
        "UPDATE workflows_historyevent AS e SET hash = history_digest(e, e.prev_hash) "
        "WHERE id = %s",
        events[1].pk,
    )
    [broken] = verify_history().broken
    assert (broken.seq, broken.problem) == (3, "it does not link to the event before it")


@pytest.mark.histories_not_replayed("the test removes events: a tampered history")
@pytest.mark.django_db(transaction=True)
def test_the_last_event_removed_is_reported(finished_run):
    last = HistoryEvent.objects.filter(run_id=finished_run).order_by("-seq").first()
    without_append_only_trigger("DELETE FROM workflows_historyevent WHERE id = %s", last.pk)
    [broken] = verify_history().broken
    assert broken.seq == last.seq and broken.event_id is None


def test_an_insert_out_of_sequence_is_refused(finished_run):
    last = HistoryEvent.objects.filter(run_id=finished_run).order_by("-seq").first()
    with pytest.raises(DatabaseError, match="no event"), transaction.atomic():
        raw(
            "INSERT INTO workflows_historyevent (run_id, seq, kind, data, actor, reason, "
            "created_at) VALUES (%s, %s, 'signal_received', '{}', '', '', now())",
            finished_run,
            last.seq + 2,
        )


def test_audit_verify_says_when_every_chain_is_intact(finished_run, capsys):
    call_command("audit", "verify")
    assert "every chain is intact" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)  # the events are removed on the owner's connection
@pytest.mark.histories_not_replayed("the test removes events: a tampered history")
def test_a_runs_head_tells_a_history_that_grew_from_one_cut_short_or_rewritten(finished_run):
    [head] = list(history_heads())
    events = list(HistoryEvent.objects.filter(run_id=finished_run).order_by("seq"))
    assert (head.run_id, head.seq, head.event_id, head.hash, head.events) == (
        finished_run,
        events[-1].seq,
        events[-1].pk,
        events[-1].hash,
        len(events),
    )
    anchored = [(head.run_id, head.seq, head.hash)]
    assert history_heads_check(anchored) == []
    assert history_heads_check([(head.run_id, head.seq - 1, events[-2].hash)]) == []  # it grew
    assert history_heads_check([(head.run_id, head.seq, "f" * 64)]) == [
        HeadChange(finished_run, head.seq, head.seq, "rewritten")
    ]
    without_append_only_trigger("DELETE FROM workflows_historyevent WHERE id = %s", events[-1].pk)
    assert history_heads_check(anchored) == [
        HeadChange(finished_run, head.seq, head.seq - 1, "truncated")
    ]
    without_append_only_trigger(
        "DELETE FROM workflows_historyevent WHERE run_id = %s", finished_run
    )
    assert history_heads_check(anchored) == [HeadChange(finished_run, head.seq, None, "deleted")]


@pytest.mark.parametrize("function", ["history_chain", "audit_chain"])
def test_the_chain_triggers_look_up_the_predecessor_through_an_index_whatever_the_statistics(
    function,
):
    """Planned while a table looked tiny, a trigger's cached lookup scanned the whole table for
    every row of a bulk insert (30,000 events: 88 s instead of 1.4 s on PostgreSQL 18). The
    functions carry the setting that rules such a plan out."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT proconfig FROM pg_proc WHERE proname = %s", [function])
        [(config,)] = cursor.fetchall()
    assert "enable_seqscan=off" in (config or [])
