"""Deploy safety: the page shows unfinished runs per workflow version and whether the code now
loaded has that version, and its check names the runs a deploy would block, before any of them
is advanced."""

from __future__ import annotations

import pytest
from django.test import Client

from samples.roles import Role
from workflows import registry
from workflows.api import get_run

pytestmark = pytest.mark.django_db

NEWEST = 4  # the sample lifecycle's newest version, which new samples start on


@pytest.fixture
def in_flight(lab):
    return [lab.register(f"S-00002{n}") for n in (1, 2)]


@pytest.fixture
def deploy_without_the_newest_version():
    """The code a deploy would load if it dropped the sample lifecycle's newest version."""
    newest = registry.get_workflow("sample_lifecycle", NEWEST)
    registry.unregister_workflow("sample_lifecycle", NEWEST)
    yield
    registry.register_workflow(newest)


def test_unfinished_runs_per_version_and_a_clean_check(in_flight, reviewer, signed_in):
    client = signed_in(reviewer)
    page = client.get("/workflows/deploy/")
    assert page.status_code == 200
    (load,) = [v for v in page.context["versions"] if v.workflow == "sample_lifecycle"]
    assert (load.version, load.unfinished, load.loaded) == (NEWEST, 2, True)
    checked = client.post("/workflows/deploy/")
    assert checked.context["checked"] >= 2
    assert checked.context["blocked"] == 0
    assert "none would block" in checked.content.decode()


def test_a_deploy_dropping_a_version_names_the_runs_it_would_block(
    in_flight, reviewer, signed_in, deploy_without_the_newest_version
):
    client = signed_in(reviewer)
    page = client.post("/workflows/deploy/")
    html = page.content.decode()
    (load,) = [v for v in page.context["versions"] if v.workflow == "sample_lifecycle"]
    assert load.loaded is False
    assert "these runs cannot go on" in html
    (group,) = [g for g in page.context["groups"] if g["workflow"] == "sample_lifecycle"]
    assert group["version"] == NEWEST
    assert {p.run_id for p in group["runs"]} == {str(s.run_id) for s in in_flight}
    assert "is not registered" in group["runs"][0].reason
    assert "2 would block" in html
    for sample in in_flight:  # a check only: nothing was advanced or marked
        assert get_run(str(sample.run_id)).status == "waiting"


def test_technicians_may_not_see_it(in_flight, make_user, signed_in):
    technician = make_user("tech-only", Role.TECHNICIAN)
    assert signed_in(technician).get("/workflows/deploy/").status_code == 403


def test_a_get_with_check_replays_nothing(in_flight, reviewer, signed_in):
    """The replay is heavy: a link or image any page can embed (a GET) only shows the page."""
    page = signed_in(reviewer).get("/workflows/deploy/", {"check": "1"})
    assert page.status_code == 200
    assert "checked" not in page.context
    assert "deploy-result" not in page.content.decode()


def test_the_check_needs_the_pages_csrf_token(in_flight, reviewer):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(reviewer)
    assert strict.post("/workflows/deploy/").status_code == 403
