"""The operations console's list of workflow runs: counts per status, filters, search by the
sample or batch a run belongs to, pages, and who may see it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from workflows.models import HistoryEvent, Run, StepTask
from workflows.ops import RunFilter, runs_counts, runs_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def three(lab):
    """Three registered samples, their lifecycles waiting for receipt; the second blocked,
    the third unchanged for five hours."""
    samples = [lab.register(f"S-00000{n}") for n in (1, 2, 3)]
    Run.objects.filter(pk=samples[1].run_id).update(
        status="blocked", blocked_reason="step record_receipt: database down"
    )
    Run.objects.filter(pk=samples[2].run_id).update(updated_at=timezone.now() - timedelta(hours=5))
    return samples


def _shown(response) -> set[str]:
    html = response.content.decode()
    return {barcode for barcode in ("S-000001", "S-000002", "S-000003") if barcode in html}


def test_counts_per_status_and_every_run_with_what_it_waits_for(three, reviewer, signed_in):
    response = signed_in(reviewer).get("/workflows/runs/")
    assert response.status_code == 200
    assert response.context["counts"]["waiting"] == 2
    assert response.context["counts"]["blocked"] == 1
    assert response.context["counts"]["completed"] == 0
    assert _shown(response) == {"S-000001", "S-000002", "S-000003"}
    first = next(r for r in response.context["runs"] if r.key == "S-000001")
    assert first.kind == "sample"
    assert first.run.workflow == "sample_lifecycle"
    assert first.run.waiting_for  # what the lifecycle waits for, as the engine says it
    assert "database down" in response.content.decode()


def test_search_by_barcode_or_run_id(three, reviewer, signed_in):
    client = signed_in(reviewer)
    assert _shown(client.get("/workflows/runs/", {"q": "s-000002"})) == {"S-000002"}
    by_run = client.get("/workflows/runs/", {"q": str(three[0].run_id)})
    assert _shown(by_run) == {"S-000001"}
    assert _shown(client.get("/workflows/runs/", {"q": "NO-SUCH"})) == set()


def test_blocked_or_failed_only_and_status_filters(three, reviewer, signed_in):
    client = signed_in(reviewer)
    stuck = client.get("/workflows/runs/", {"stuck": "1"})
    assert _shown(stuck) == {"S-000002"}
    assert stuck.context["counts"]["waiting"] == 0
    assert _shown(client.get("/workflows/runs/", {"status": "waiting"})) == {"S-000001", "S-000003"}
    only_v2 = client.get("/workflows/runs/", {"workflow": "sample_lifecycle", "version": "99"})
    assert _shown(only_v2) == set()


def test_waiting_longer_than_some_hours(three, reviewer, signed_in):
    response = signed_in(reviewer).get("/workflows/runs/", {"waiting": "4"})
    assert _shown(response) == {"S-000003"}
    assert response.context["counts"]["waiting"] == 1


def test_unusable_filter_values_are_said_and_nothing_breaks(three, reviewer, signed_in):
    response = signed_in(reviewer).get(
        "/workflows/runs/",
        {"status": "lost", "version": "two", "waiting": "-1", "before": "x_y_z"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is no status" in html
    assert "The version is a whole number" in html
    assert "a number of hours" in html
    assert _shown(response) == {"S-000001", "S-000002", "S-000003"}


def test_pages_follow_each_other_without_gaps_or_repeats(three):
    first, key = runs_list(RunFilter(), size=2)
    second, after = runs_list(RunFilter(), before=key, size=2)
    assert len(first) == 2 and len(second) == 1 and after is None
    ids = [row.id for row in first + second]
    assert sorted(ids) == sorted(str(s.run_id) for s in three)
    assert runs_counts(RunFilter(status="blocked"))["waiting"] == 2  # status left aside


@pytest.mark.histories_not_replayed("101 runs written by hand, without histories")
def test_the_next_page_link_carries_the_filter(three, reviewer, signed_in):
    client = signed_in(reviewer)
    now = timezone.now()
    fields = {"workflow": "other", "version": 1, "status": "waiting"}
    Run.objects.bulk_create([Run(**fields, created_at=now, updated_at=now) for _ in range(101)])
    page = client.get("/workflows/runs/", {"workflow": "other"})
    assert len(page.context["runs"]) == 100
    assert "workflow=other" in page.context["older"]
    rest = client.get(f"/workflows/runs/?{page.context['older']}")
    assert len(rest.context["runs"]) == 1
    assert rest.context["runs"][0].kind == ""


def test_technicians_are_refused(three, technician, signed_in):
    assert signed_in(technician).get("/workflows/runs/").status_code == 403


def test_compliance_and_administrators_may_read(
    three, compliance_officer, administrator, signed_in
):
    assert signed_in(compliance_officer).get("/workflows/runs/").status_code == 200
    assert signed_in(administrator).get("/workflows/runs/").status_code == 200


def test_a_runs_page_shows_its_history_version_and_sample(three, reviewer, signed_in):
    run_id = three[0].run_id
    response = signed_in(reviewer).get(f"/workflows/runs/{run_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "sample_lifecycle version" in html
    assert 'href="/samples/S-000001/"' in html
    kinds = [event["entry"].kind for event in response.context["events"]]
    assert kinds[-1] == "run_started"  # newest first: the start is last
    assert len(kinds) == HistoryEvent.objects.filter(run_id=run_id).count()
    started = response.context["events"][-1]["entry"]
    assert started.actor == three[0].registered_by.username
    assert f'hx-get="/workflows/runs/{run_id}/live/"' in html  # it updates itself


def test_a_failed_step_shows_its_attempts_and_error(three, reviewer, signed_in):
    run = Run.objects.get(pk=three[1].run_id)
    StepTask.objects.create(
        run=run, cmd=99, name="record_receipt", status="pending", attempt=2, max_attempts=5,
        next_attempt_at=timezone.now() + timedelta(minutes=1),
        last_error={"type": "OperationalError", "message": "database down"},
    )  # fmt: skip
    HistoryEvent.objects.create(
        run=run, seq=run.last_seq + 1, kind="step_failed", cmd=99, attempt=2,
        data={"step": "record_receipt", "error_type": "OperationalError",
              "message": "database down", "final": False},
        created_at=timezone.now(),
    )  # fmt: skip
    response = signed_in(reviewer).get(f"/workflows/runs/{run.pk}/live/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "2 of 5" in html
    assert "OperationalError: database down" in html
    failed = response.context["events"][0]
    assert failed["entry"].kind == "step_failed" and failed["error"] == "database down"


def test_a_finished_run_stops_updating(three, reviewer, signed_in):
    Run.objects.filter(pk=three[0].run_id).update(status="completed", finished_at=timezone.now())
    html = signed_in(reviewer).get(f"/workflows/runs/{three[0].run_id}/").content.decode()
    assert "hx-get" not in html.split('id="run-live"', 1)[1].split(">", 1)[0]


def test_an_unknown_run_is_not_found(three, reviewer, signed_in):
    client = signed_in(reviewer)
    assert client.get("/workflows/runs/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/workflows/runs/not-a-run/").status_code == 404
    assert client.get("/workflows/runs/not-a-run/live/").status_code == 404


def test_a_runs_page_is_refused_to_technicians(three, technician, signed_in):
    assert signed_in(technician).get(f"/workflows/runs/{three[0].run_id}/").status_code == 403
