"""The console's reads that pages of other apps use through workflows.ops."""

import uuid
from datetime import datetime

import pytest
from django.utils import timezone

from workflows.api import Wait
from workflows.models import Run
from workflows.ops import RunWaits, runs_waits, waiting_for, workflow_versions

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.histories_not_replayed("runs written by hand, for the console's reads"),
]


def run(
    status: str,
    waiting: str = "",
    blocked: str = "",
    workflow: str = "w",
    version: int = 1,
    waits: list | None = None,
) -> str:
    now = timezone.now()
    made = Run.objects.create(
        workflow=workflow,
        version=version,
        status=status,
        waiting_for=waiting,
        blocked_reason=blocked,
        waits=waits or [],
        created_at=now,
        updated_at=now,
    )
    return str(made.pk)


def test_waiting_for_says_what_each_run_waits_for_or_why_it_is_blocked():
    waiting = run("waiting", waiting="signal 'reception'")
    blocked = run("blocked", waiting="signal 'batch'", blocked="version 3 is not registered")
    done = run("completed")
    unknown = str(uuid.uuid4())
    run("waiting", waiting="signal 'review'")  # not asked for

    assert waiting_for([waiting, blocked, done, unknown]) == {
        waiting: "signal 'reception'",
        blocked: "version 3 is not registered",
        done: "",
    }
    assert waiting_for([]) == {}


def test_runs_waits_gives_what_runs_wait_for_as_data_too_in_one_query(django_assert_num_queries):
    deadline = "2026-12-02T20:42:00+00:00"
    waits = [{"kind": "signal", "name": "reception", "until": deadline}]
    waiting = run("waiting", waiting="signal 'reception'", waits=waits, workflow="life")
    mark = {"kind": "step", "name": "s.mark", "until": None, "args": ["S-1", "x"]}
    stepping = run("running", waiting="step 's.mark'", waits=[mark])
    with django_assert_num_queries(1):
        found = runs_waits([waiting, stepping, str(uuid.uuid4())])
    assert found == {
        waiting: RunWaits(waiting, "life", "waiting", "signal 'reception'", "", (
            Wait("signal", "reception", datetime.fromisoformat(deadline)),)),
        stepping: RunWaits(stepping, "w", "running", "step 's.mark'", "", (
            Wait("step", "s.mark", None, ("S-1", "x")),)),
    }  # fmt: skip


def test_workflow_versions_lists_each_workflow_with_the_versions_its_runs_are_pinned_to():
    assert workflow_versions() == {}
    for workflow, version in [("w", 2), ("w", 1), ("w", 2), ("a", 3), ("w", 10), ("a", 3)]:
        run("waiting", workflow=workflow, version=version)
    assert workflow_versions() == {"a": [3], "w": [1, 2, 10]}
