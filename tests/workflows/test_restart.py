"""Restarting a run from a chosen step: a new run, linked to the old one, that reuses every
result recorded before that step (those steps do not run again) and runs the chosen step and
what follows afresh; the old run is closed as superseded. Only once a second person approves."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from workflows.api import RetryPolicy, get_run, signal, start, step, workflow
from workflows.models import Run, StepTask, Timer
from workflows.ops import InterventionRefused, decide, intervene, run_restarted
from workflows.testing import WorkflowTestEnv

pytestmark = pytest.mark.django_db

ran: Counter[str] = Counter()
broken = {"weigh": True}


@step("restart.fetch")
def fetch(label):
    ran["fetch"] += 1
    return f"{label} fetched"


@step("restart.weigh", retry=RetryPolicy(max_attempts=2, initial_interval=1))
def weigh(label):
    ran["weigh"] += 1
    if broken["weigh"]:
        raise RuntimeError("balance not calibrated")
    return f"{label} weighed"


@step("restart.report")
def report(label):
    ran["report"] += 1
    return f"{label} reported"


@workflow("restart.flow")
async def flow(ctx, label):
    first = await ctx.step(fetch, label)
    approval = await ctx.wait_signal("go")
    second = await ctx.step(weigh, label)
    third = await ctx.step(report, label)
    return [first, approval, second, third]


@pytest.fixture
def failed_run():
    ran.clear()
    broken["weigh"] = True
    with WorkflowTestEnv() as env:
        run_id = start("restart.flow", "S1", key="S1")
        env.run_until_idle()
        signal(run_id, "go", "yes", actor="tech")
        env.run_until_idle()
        env.advance_time(5)  # the retry, failing again: the run fails
        yield env, run_id


def _weigh_cmd(run_id: str) -> int:
    return StepTask.objects.get(run_id=run_id, name="restart.weigh").cmd


def test_a_restart_waits_for_a_second_person_and_reruns_only_from_the_step(failed_run):
    env, run_id = failed_run
    assert get_run(run_id).status == "failed"
    assert ran == {"fetch": 1, "weigh": 2}
    moved = []
    run_restarted.connect(lambda **kw: moved.append(kw), weak=False, dispatch_uid="test-restart")
    try:
        asked = intervene(
            run_id, "restart", actor="ana", reason="balance calibrated", step=_weigh_cmd(run_id)
        )
        assert asked.status == "pending" and get_run(run_id).status == "failed"
        with pytest.raises(InterventionRefused, match="second person"):
            decide(asked.id, actor="ana", approve=True)

        broken["weigh"] = False  # the fix
        done = decide(asked.id, actor="ben", approve=True, reason="checked the calibration")
        env.run_until_idle()
    finally:
        run_restarted.disconnect(dispatch_uid="test-restart")

    assert done.status == "done" and done.new_run
    new = get_run(done.new_run)
    assert new.status == "completed"
    assert new.result == ["S1 fetched", "yes", "S1 weighed", "S1 reported"]
    assert ran == {"fetch": 1, "weigh": 3, "report": 1}  # fetch was not run again
    old = get_run(run_id)
    assert old.status == "superseded"
    assert Run.objects.get(pk=done.new_run).restarted_from == Run.objects.get(pk=run_id).pk
    assert Run.objects.get(pk=done.new_run).key == "S1"  # the business key moved
    assert moved == [{"signal": run_restarted, "sender": moved[0]["sender"],
                      "old_run_id": run_id, "new_run_id": done.new_run}]  # fmt: skip
    superseded = next(e for e in old.history if e.kind == "run_superseded")
    assert (superseded.actor, superseded.reason) == ("ana", "balance calibrated")
    assert superseded.data["by_run"] == done.new_run
    restarted = next(e for e in new.history if e.kind == "run_restarted")
    assert restarted.data == {"from_run": run_id, "from_step": _weigh_cmd(run_id)}
    kinds = [e.kind for e in new.history]
    assert kinds.count("step_completed") == 3  # fetch (reused) + weigh + report
    approved = next(e for e in old.history if e.kind == "intervention_approved")
    assert approved.actor == "ben"


def test_a_restart_names_a_step_the_run_has(failed_run):
    _, run_id = failed_run
    with pytest.raises(InterventionRefused, match="Choose the step"):
        intervene(run_id, "restart", actor="ana", reason="again")
    with pytest.raises(InterventionRefused, match="no step 99"):
        intervene(run_id, "restart", actor="ana", reason="again", step=99)


def test_a_refused_restart_leaves_the_run_as_it_was(failed_run):
    _, run_id = failed_run
    asked = intervene(run_id, "restart", actor="ana", reason="try", step=_weigh_cmd(run_id))
    decide(asked.id, actor="ben", approve=False, reason="not calibrated yet")
    assert get_run(run_id).status == "failed"
    assert Run.objects.filter(restarted_from=run_id).count() == 0


@workflow("restart.sleeping")
async def sleeping(ctx, label):
    await ctx.step(fetch, label)
    await ctx.sleep(timedelta(hours=1))
    return await ctx.step(report, label)


def _restart(run_id: str, cmd: int) -> str:
    asked = intervene(run_id, "restart", actor="ana", reason="start over", step=cmd)
    return decide(asked.id, actor="ben", approve=True).new_run


def test_a_restart_ends_the_old_runs_waiting_steps_and_timers():
    """One run restarted while its step waits for a retry, another while its timer waits for
    its hour: neither runs for the old run, as for a run that finishes."""
    ran.clear()
    broken["weigh"] = True
    with WorkflowTestEnv() as env:
        retrying = start("restart.flow", "S2")
        env.run_until_idle()
        signal(retrying, "go", "yes", actor="tech")
        env.run_until_idle()  # weigh failed once; its retry is a second away
        sleeping_id = start("restart.sleeping", "S3")
        env.run_until_idle()
        assert StepTask.objects.get(run_id=retrying, name="restart.weigh").status == "pending"
        assert Timer.objects.filter(run_id=sleeping_id, fired=False).count() == 1

        broken["weigh"] = False
        new_runs = [
            _restart(retrying, _weigh_cmd(retrying)),
            _restart(sleeping_id, StepTask.objects.get(run_id=sleeping_id).cmd),
        ]
        assert StepTask.objects.get(run_id=retrying, name="restart.weigh").status == "abandoned"
        assert not Timer.objects.filter(run_id=sleeping_id, fired=False).exists()
        env.run_until_idle()  # the new runs start over
        env.advance_time(timedelta(hours=2))

    for old in (retrying, sleeping_id):
        assert [e.kind for e in get_run(old).history][-1] == "run_superseded"
    assert [get_run(new).status for new in new_runs] == ["completed", "completed"]
    # weigh: failed once for the old run, then once for the new; fetch again for the new
    # sleeping run only (restarted from it), report once for each new run.
    assert ran == {"fetch": 3, "weigh": 2, "report": 2}
