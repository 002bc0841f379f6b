"""The replay check: every run's whole history replayed from the table against the code now
loaded must reach the recorded decisions. Every test that touches the database ends with it
(``tests/conftest.py``); operators run it as ``manage.py workflows replay --all``. Here it is
shown to catch what it is for: code that decides differently when replayed."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from workflows.api import signal, start, workflow
from workflows.ops import replay_check
from workflows.testing import WorkflowTestEnv

pytestmark = pytest.mark.django_db


@workflow("check.wall_clock")
async def reads_the_wall_clock(ctx):
    """The mistake behind samples with two assays blocking: each wait's timeout worked out
    again at every replay, here from the process's clock instead of the history's."""
    deadline = ctx.now() + timedelta(hours=6)
    for name in ("batched:GLU", "batched:K"):
        left = (deadline - timezone.now()).total_seconds()
        await ctx.wait_signal(name, timeout=left)
    return "both batched"


@pytest.mark.histories_not_replayed("the run is built not to replay: the check must say so")
def test_the_check_catches_a_workflow_that_works_out_its_deadline_from_another_clock():
    with WorkflowTestEnv(moving_clock=True) as env:
        run_id = start("check.wall_clock")
        env.run_until_idle()
        signal(run_id, "batched:GLU")
        env.run_until_idle()
        checked, problems = replay_check(finished=True, strict=True)
    assert checked == 1
    [problem] = problems[("check.wall_clock", 1)]
    assert problem.run_id == run_id and not problem.blocks
    assert problem.reason.startswith(
        "position 1: the history recorded a wait for signal 'batched:GLU' ending at "
    )


@workflow("check.steady")
async def steady(ctx):
    deadline = ctx.now() + timedelta(hours=6)
    for name in ("batched:GLU", "batched:K"):
        await ctx.wait_signal(name, until=deadline)
    return "both batched"


def test_the_same_workflow_on_the_historys_clock_replays_cleanly():
    with WorkflowTestEnv(moving_clock=True) as env:
        run_id = start("check.steady")
        env.run_until_idle()
        for name in ("batched:GLU", "batched:K"):
            signal(run_id, name)
            env.run_until_idle()
        assert replay_check(finished=True, strict=True) == (1, {})


@workflow("check.finished")
async def finished(ctx):
    await ctx.wait_signal("go")
    return "old ending"


@pytest.mark.histories_not_replayed("the code is changed under a finished run on purpose")
def test_replay_all_replays_finished_runs_and_names_those_that_end_otherwise():
    with WorkflowTestEnv() as env:
        run_id = start("check.finished")
        signal(run_id, "go")
        env.run_until_idle()
    out = StringIO()
    call_command("workflows", "replay", "--all", stdout=out)
    assert "checked 1 run(s): 0 would block, 0 replay to other decisions" in out.getvalue()

    async def new_ending(ctx):
        await ctx.wait_signal("go")
        return "new ending"

    original, finished.__code__ = finished.__code__, new_ending.__code__
    out = StringIO()
    try:
        call_command("workflows", "replay", stdout=out)  # unfinished runs only: nothing to say
        assert "checked 0 unfinished run(s): 0 would block" in out.getvalue()
        with pytest.raises(CommandError, match="1 run\\(s\\) replay to other decisions"):
            call_command("workflows", "replay", "--all", stdout=out)
    finally:
        finished.__code__ = original
    assert (
        f"{run_id} (replays to other decisions): the history ends with run_completed "
        "{'result': 'old ending'}, but replaying it decides run_completed {'result': 'new ending'}"
    ) in out.getvalue()
