"""``manage.py workflows``: what an operator sees and can do without a database console."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.workflows.test_engine import calls, failures_left  # shares the registered defs
from workflows.api import get_run, signal, start
from workflows.testing import WorkflowTestEnv

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    calls.clear()
    failures_left.clear()
    with WorkflowTestEnv() as test_env:
        yield test_env


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("workflows", *args, stdout=out)
    return out.getvalue()


def test_list_shows_each_run_with_what_it_waits_for(env):
    waiting = start("t.reception", "S-9", key="S-9")
    done = start("t.sequence", 1)
    env.run_until_idle()
    listing = run_command("list")
    assert f"{waiting}  t.reception v1  waiting    S-9  signal 'received' until" in listing
    assert f"{done}  t.sequence v1  completed" in listing
    only_waiting = run_command("list", "--status", "waiting")
    assert waiting in only_waiting and done not in only_waiting


def test_show_prints_the_history_with_actors_and_reasons(env):
    run_id = start("t.reception", "S-9", actor="tess")
    env.run_until_idle()
    signal(run_id, "received", {"condition": "ok"}, actor="tess", reason="scanned")
    env.run_until_idle()
    shown = run_command("show", run_id)
    assert f"run {run_id}: t.reception v1, completed" in shown
    assert "signal_received by tess (scanned)" in shown
    assert 'result: {"barcode": "S-9", "condition": "ok"}' in shown


def test_retry_runs_a_backed_off_step_now(env):
    failures_left["c311"] = 1
    run_id = start("t.retrying", "c311")
    env.run_until_idle()
    assert calls["flaky"] == 1
    assert "retrying 1 step(s) now: t.flaky" in run_command("retry", run_id, "--actor", "rui")
    env.run_until_idle()  # no time passed
    assert get_run(run_id).result == "c311 ok"
    requested = next(e for e in get_run(run_id).history if e.kind == "retry_requested")
    assert requested.actor == "rui"


def test_retry_and_cancel_refuse_finished_runs_clearly(env):
    run_id = start("t.sequence", 1)
    env.run_until_idle()
    with pytest.raises(CommandError, match="has completed: there is nothing to retry"):
        run_command("retry", run_id)
    with pytest.raises(CommandError, match="already finished"):
        run_command("cancel", run_id, "--reason", "too late")


def test_cancel_needs_a_reason_and_records_it(env):
    run_id = start("t.cancellable")
    env.run_until_idle()
    with pytest.raises(CommandError):
        run_command("cancel", run_id)
    run_command("cancel", run_id, "--reason", "sample withdrawn", "--actor", "rui")
    env.run_until_idle()
    assert get_run(run_id).status == "cancelled"


def test_unknown_runs_are_reported_not_crashed_on(env):
    with pytest.raises(CommandError, match="no workflow run"):
        run_command("show", "nope")


def test_sweep_reports_what_it_found(env):
    run_id = start("t.incubate")
    env.run_until_idle()
    env._now += __import__("datetime").timedelta(weeks=3)
    assert "timers fired: 1" in run_command("sweep")
    env.run_until_idle()
    assert get_run(run_id).status == "completed"


def test_replay_names_the_runs_a_code_change_would_block(env):
    from tests.workflows.test_engine import edited

    run_id = start("t.edited")
    env.run_until_idle()
    assert "checked 1 unfinished run(s): 0 would block" in run_command("replay")

    async def changed(ctx):
        await ctx.step("t.double", 2)
        await ctx.wait_signal("go")

    original, edited.__code__ = edited.__code__, changed.__code__
    out = StringIO()
    try:
        with pytest.raises(CommandError, match="1 run\\(s\\) would block"):
            call_command("workflows", "replay", stdout=out)
    finally:
        edited.__code__ = original
    report = out.getvalue()
    assert "t.edited v1: 1 run(s)" in report
    assert f"{run_id}: position 1: the history recorded step 't.double' with [1]" in report
    assert get_run(run_id).status == "waiting"  # checking changed nothing
