"""Samples and batches over the API: register, list with filters, read with results and what
the lifecycle waits for, history; batches with positions. Each role sees what it may."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command

from samples.models import Sample
from tests.samples.lab import api_for

BODY = {
    "barcode": "S-000981",
    "specimen_type": "serum",
    "subject_ref": "SUBJ-81",
    "collected_at": "2026-01-05T08:30:00Z",
    "assays": ["glu"],
}


def test_a_technician_script_registers_a_sample_with_the_same_rules_as_the_page(lab):
    client = api_for(lab.technician)
    created = client.post("/api/v1/samples/", BODY, format="json")
    assert created.status_code == 201 and created.json()["state"] == "registered"
    assert Sample.objects.get().run_id is not None
    again = client.post("/api/v1/samples/", BODY, format="json")
    assert again.status_code == 400 and "already registered" in again.json()["barcode"][0]
    bad = client.post(
        "/api/v1/samples/", {**BODY, "barcode": "x", "specimen_type": "tears"}, format="json"
    )
    assert bad.status_code == 400 and "specimen_type" in bad.json()
    assert (
        api_for(lab.reviewer)
        .post("/api/v1/samples/", {**BODY, "barcode": "S-000982"}, format="json")
        .status_code
        == 403
    )
    assert Sample.objects.count() == 1


def test_samples_are_listed_with_filters_and_read_with_what_they_wait_for(lab):
    lab.register("S-000983")
    lab.register("S-000984")
    lab.receive("S-000984")
    client = api_for(lab.reviewer)
    listed = client.get("/api/v1/samples/?state=received").json()
    assert [s["barcode"] for s in listed["results"]] == ["S-000984"]
    assert client.get("/api/v1/samples/?state=lost").status_code == 400
    assert client.get("/api/v1/samples/?received_after=soon").status_code == 400
    detail = client.get("/api/v1/samples/S-000983/").json()
    assert detail["results"] == []
    # In the lab's words, as on the sample's card.
    assert detail["waiting_for"].startswith("waiting for receipt at reception (window ends ")
    history = client.get("/api/v1/samples/S-000984/history/").json()
    assert [e["kind"] for e in history][:2] == ["run_started", "step_scheduled"]
    assert any(e["actor"] == "tess" and e["kind"] == "signal_received" for e in history)
    assert client.get("/api/v1/samples/S-404404/").status_code == 404


def test_the_history_lists_every_run_of_a_restarted_sample_oldest_first(lab):
    from workflows.models import StepTask
    from workflows.ops import decide, intervene

    lab.register("S-000989")
    lab.receive("S-000989")
    old_run = str(Sample.objects.get(barcode="S-000989").run_id)
    first_step = StepTask.objects.filter(run_id=old_run).order_by("cmd").first()
    asked = intervene(old_run, "restart", actor="ana", reason="rules fixed", step=first_step.cmd)
    decide(asked.id, actor="ben", approve=True)
    lab.env.run_until_idle()
    new_run = str(Sample.objects.get(barcode="S-000989").run_id)
    assert new_run != old_run

    history = api_for(lab.reviewer).get("/api/v1/samples/S-000989/history/").json()
    runs = [e["run"] for e in history]
    assert runs == sorted(runs, key=[old_run, new_run].index)  # the old run's events first
    assert set(runs) == {old_run, new_run}
    old_kinds = [e["kind"] for e in history if e["run"] == old_run]
    new_kinds = [e["kind"] for e in history if e["run"] == new_run]
    assert old_kinds[-1] == "run_superseded"
    assert "run_restarted" in new_kinds and "run_superseded" not in new_kinds
    for run in (old_run, new_run):  # each run's events in order, numbered within the run
        seqs = [e["seq"] for e in history if e["run"] == run]
        assert seqs == list(range(1, len(seqs) + 1))


def test_released_samples_are_listed_by_their_release_time(lab):
    lab.register("S-000986")
    lab.register("S-000987")
    for barcode in ["S-000986", "S-000987"]:
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    lab.start_run()
    lab.post("S-000986", "5.0")
    lab.verify("S-000986")
    released = Sample.objects.get(barcode="S-000986").released_at
    assert released is not None
    client = api_for(lab.reviewer)
    since = client.get("/api/v1/samples/", {"released_after": released.isoformat()}).json()
    assert [(s["barcode"], s["released_at"] is not None) for s in since["results"]] == [
        ("S-000986", True)
    ]
    before = client.get("/api/v1/samples/", {"released_before": released.isoformat()}).json()
    assert before["results"] == []
    assert client.get("/api/v1/samples/?released_before=later").json() == {
        "released_before": ["Not an ISO 8601 date and time."]
    }


def test_an_instrument_reads_batches_with_positions_but_not_samples(lab):
    lab.register("S-000985")
    lab.receive("S-000985")
    lab.to_batch("S-000985")
    instrument = api_for(lab.instrument.service_user)
    batches = instrument.get("/api/v1/batches/").json()["results"]
    assert batches[0]["positions"] == [{"position": 1, "sample": "S-000985"}]
    assert instrument.get(f"/api/v1/batches/{batches[0]['id']}/").status_code == 200
    assert instrument.get("/api/v1/samples/").status_code == 403


def test_the_schema_validates_without_a_warning(tmp_path):
    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    paths = schema["paths"]
    assert {"/api/v1/results/", "/api/v1/samples/", "/api/v1/batches/"} <= set(paths)
    history = paths["/api/v1/samples/{barcode}/history/"]["get"]
    assert "every workflow run" in history["description"]
    assert "run" in schema["components"]["schemas"]["HistoryEvent"]["required"]


@pytest.fixture(autouse=True)
def _db(db):
    return db


def test_each_client_is_throttled_at_its_rate_with_429(lab, settings):
    from django.core.cache import cache

    cache.clear()
    settings.API_THROTTLE_RATE = "3/min"
    client, other = api_for(lab.reviewer), api_for(lab.technician)
    codes = [client.get("/api/v1/samples/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get("/api/v1/samples/").has_header("Retry-After")
    assert other.get("/api/v1/samples/").status_code == 200  # counted per client
    cache.clear()
