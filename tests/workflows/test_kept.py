"""A worker keeps each waiting workflow suspended in memory between advances and records a
finished step with what follows it in one statement. These tests pin down that this is only a
shortcut: whatever happens in between, the history is the one a full replay would write."""

from __future__ import annotations

from collections import Counter

import pytest

from workflows import executor
from workflows.api import get_run, signal, start, step, workflow
from workflows.dispatch import ADVANCE_QUEUE
from workflows.models import HistoryEvent
from workflows.testing import WorkflowTestEnv

pytestmark = pytest.mark.django_db(transaction=True)  # commits, so sessions are kept

entered: Counter[str] = Counter()


@pytest.fixture
def env():
    entered.clear()
    with WorkflowTestEnv() as test_env:
        yield test_env


@step("kept.add_one")
def add_one(x):
    return x + 1


@workflow("kept.counting")
async def counting(ctx, steps):
    entered["counting"] += 1  # runs again only when the workflow is replayed from the top
    total = 0
    for _ in range(steps):
        total = await ctx.step(add_one, total)
    label = await ctx.wait_signal("label")
    return f"{label}: {total}"


def history(run_id):
    rows = HistoryEvent.objects.filter(run_id=run_id).order_by("seq")
    return [(e.seq, e.kind, e.cmd, e.attempt, e.data) for e in rows]


def test_a_kept_workflow_goes_on_from_its_await_without_replaying(env):
    run_id = start("kept.counting", 5)
    env.run_until_idle()
    signal(run_id, "label", "total")
    env.run_until_idle()
    assert get_run(run_id).result == "total: 5"
    assert entered["counting"] == 1  # six advances, one pass through the code


def test_after_a_restart_the_workflow_is_replayed_and_finishes_the_same(env):
    kept_run = start("kept.counting", 3)
    env.run_until_idle()
    signal(kept_run, "label", "n")
    env.run_until_idle()

    replayed_run = start("kept.counting", 3)
    env.run_until_idle()
    env.restart_workers()
    signal(replayed_run, "label", "n")
    env.run_until_idle()

    assert get_run(replayed_run).result == get_run(kept_run).result == "n: 3"
    assert entered["counting"] == 3  # once per run, and once more for the replay
    shape = [(kind, cmd, attempt) for _, kind, cmd, attempt, _ in history(kept_run)]
    assert [(kind, cmd, attempt) for _, kind, cmd, attempt, _ in history(replayed_run)] == shape


def test_an_event_that_lands_while_a_step_runs_sends_the_step_down_the_general_path(env):
    run_id = start("kept.counting", 2)
    claim = executor.advance_run(run_id, inline_queue=ADVANCE_QUEUE)  # first step, claimed
    assert claim is not None
    signal(run_id, "label", "early")  # appended while the step "runs": the kept seq is stale
    follow_up = executor.run_claimed(claim)
    while follow_up is not None:
        follow_up = executor.run_claimed(follow_up)
    env.run_until_idle()

    assert get_run(run_id).result == "early: 2"
    events = history(run_id)
    assert [seq for seq, *_ in events] == list(range(1, len(events) + 1))
    completed = [cmd for _, kind, cmd, _, _ in events if kind == "step_completed"]
    assert completed == [1, 2]  # each result once, in order
    kinds = [kind for _, kind, *_ in events]
    assert kinds.index("signal_received") < kinds.index("signal_consumed")
