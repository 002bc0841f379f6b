"""``manage.py workflows``: what an operator sees and can do without a database console."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.workflows.test_engine import calls, failures_left  # shares the registered defs
from workflows.api import get_run, signal, start
from workflows.models import Intervention
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


@pytest.fixture
def operators(django_user_model):
    """Two people with accounts: the command line names people by their account."""
    return (
        django_user_model.objects.create_user("rui"),
        django_user_model.objects.create_user("ana"),
    )


def kinds(run_id: str) -> list[str]:
    return [e.kind for e in get_run(run_id).history]


def test_retry_runs_a_backed_off_step_now_and_records_it_as_the_console_does(env, operators):
    rui, _ = operators
    failures_left["c311"] = 1
    run_id = start("t.retrying", "c311")
    env.run_until_idle()
    assert calls["flaky"] == 1
    out = run_command("retry", run_id, "--actor", "rui", "--reason", "instrument back online")
    assert "retrying 1 step(s) now: t.flaky" in out
    env.run_until_idle()  # no time passed
    assert get_run(run_id).result == "c311 ok"
    requested = next(e for e in get_run(run_id).history if e.kind == "retry_requested")
    assert (requested.actor, requested.reason) == ("rui", "instrument back online")
    row = Intervention.objects.get(run_id=run_id)
    assert (row.kind, row.status, row.requested_by, row.requested_by_id) == (
        "retry",
        "done",
        "rui",
        str(rui.pk),
    )


def test_retry_and_cancel_refuse_finished_runs_clearly(env, operators):
    run_id = start("t.sequence", 1)
    env.run_until_idle()
    with pytest.raises(CommandError, match="has completed: there is nothing to retry"):
        run_command("retry", run_id, "--actor", "rui", "--reason", "again")
    with pytest.raises(CommandError, match="has completed: there is nothing to cancel"):
        run_command("cancel", run_id, "--reason", "too late", "--actor", "rui")
    assert not Intervention.objects.exists()


def test_cancel_asks_for_a_second_persons_approval_and_does_not_cancel(env, operators):
    rui, _ = operators
    run_id = start("t.cancellable")
    env.run_until_idle()
    with pytest.raises(CommandError):
        run_command("cancel", run_id, "--actor", "rui")  # no reason
    out = run_command("cancel", run_id, "--reason", "sample withdrawn", "--actor", "rui")
    env.run_until_idle()
    row = Intervention.objects.get(run_id=run_id)
    assert f"intervention {row.pk}" in out and "second person" in out
    assert (row.kind, row.status, row.requested_by, row.requested_by_id) == (
        "cancel",
        "pending",
        "rui",
        str(rui.pk),
    )
    assert get_run(run_id).status == "waiting"  # not cancelled
    assert "intervention_requested" in kinds(run_id)
    assert "cancel_requested" not in kinds(run_id)
    listing = run_command("interventions")
    assert f"{row.pk}  cancel  run {run_id}  asked by rui" in listing
    assert "sample withdrawn" in listing
    assert str(row.pk) in run_command("interventions", run_id)


def test_approve_by_another_account_cancels_the_run(env, operators):
    run_id = start("t.cancellable")
    env.run_until_idle()
    run_command("cancel", run_id, "--reason", "sample withdrawn", "--actor", "rui")
    row = Intervention.objects.get(run_id=run_id)
    out = run_command("approve", str(row.pk), "--actor", "ana")
    assert "cancellation delivered to the run" in out
    env.run_until_idle()
    run = get_run(run_id)
    assert run.status == "cancelled"
    approved = next(e for e in run.history if e.kind == "intervention_approved")
    cancelled = next(e for e in run.history if e.kind == "cancel_requested")
    assert approved.actor == "ana"
    assert (cancelled.actor, cancelled.reason) == ("rui", "sample withdrawn")
    assert "no intervention waits" in run_command("interventions")


def test_the_asker_may_not_approve_their_own_cancellation(env, operators):
    run_id = start("t.cancellable")
    env.run_until_idle()
    run_command("cancel", run_id, "--reason", "sample withdrawn", "--actor", "rui")
    row = Intervention.objects.get(run_id=run_id)
    with pytest.raises(CommandError, match="A second person must decide"):
        run_command("approve", str(row.pk), "--actor", "rui")
    env.run_until_idle()
    assert get_run(run_id).status == "waiting"
    row.refresh_from_db()
    assert row.status == "pending"


def test_a_refusal_needs_a_reason_and_leaves_the_run_running(env, operators):
    run_id = start("t.cancellable")
    env.run_until_idle()
    run_command("cancel", run_id, "--reason", "sample withdrawn", "--actor", "rui")
    row = Intervention.objects.get(run_id=run_id)
    with pytest.raises(CommandError):
        run_command("refuse", str(row.pk), "--actor", "ana")  # no reason
    out = run_command("refuse", str(row.pk), "--actor", "ana", "--reason", "still ordered")
    assert "refused" in out
    env.run_until_idle()
    assert get_run(run_id).status == "waiting"
    refused = next(e for e in get_run(run_id).history if e.kind == "intervention_refused")
    assert (refused.actor, refused.reason) == ("ana", "still ordered")


def test_an_unknown_or_inactive_actor_is_refused_and_changes_nothing(env, operators):
    ana = operators[1]
    ana.is_active = False
    ana.save()
    failures_left["c311"] = 1
    run_id = start("t.retrying", "c311")
    env.run_until_idle()
    before = kinds(run_id)
    for command in (
        ("cancel", run_id, "--reason", "withdrawn", "--actor", "ghost"),
        ("retry", run_id, "--reason", "again", "--actor", "ghost"),
        ("cancel", run_id, "--reason", "withdrawn", "--actor", "ana"),
    ):
        with pytest.raises(CommandError, match="no active account"):
            run_command(*command)
    assert kinds(run_id) == before
    assert not Intervention.objects.exists()
    run_command("cancel", run_id, "--reason", "withdrawn", "--actor", "rui")
    row = Intervention.objects.get(run_id=run_id)
    with pytest.raises(CommandError, match="no active account"):
        run_command("approve", str(row.pk), "--actor", "ghost")
    row.refresh_from_db()
    assert row.status == "pending"


def test_unknown_runs_are_reported_not_crashed_on(env, operators):
    with pytest.raises(CommandError, match="no workflow run"):
        run_command("show", "nope")
    with pytest.raises(CommandError, match="There is no workflow run"):
        run_command("cancel", str(uuid.uuid4()), "--reason", "gone", "--actor", "rui")
    with pytest.raises(CommandError, match="There is no intervention 404"):
        run_command("approve", "404", "--actor", "ana")


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
