"""The console's reads that pages of other apps use through workflows.ops."""

import uuid

import pytest
from django.utils import timezone

from workflows.models import Run
from workflows.ops import waiting_for, workflow_versions

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.histories_not_replayed("runs written by hand, for the console's reads"),
]


def run(
    status: str, waiting: str = "", blocked: str = "", workflow: str = "w", version: int = 1
) -> str:
    now = timezone.now()
    made = Run.objects.create(
        workflow=workflow,
        version=version,
        status=status,
        waiting_for=waiting,
        blocked_reason=blocked,
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


def test_workflow_versions_lists_each_workflow_with_the_versions_its_runs_are_pinned_to():
    assert workflow_versions() == {}
    for workflow, version in [("w", 2), ("w", 1), ("w", 2), ("a", 3), ("w", 10), ("a", 3)]:
        run("waiting", workflow=workflow, version=version)
    assert workflow_versions() == {"a": [3], "w": [1, 2, 10]}
