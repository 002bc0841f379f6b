"""Wherever a person reads what a workflow run waits for (the scan card, the sample page, the
worklist, the dashboard, the REST API, the runs console) it reads the lab's words, never the
engine's ("signal 'batched:GLU' until ..."); lists read the waits of a page in a few queries,
whatever its size. The console keeps the engine's text in a title, for supervisors."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from samples.models import Batch, Sample
from tests.samples.lab import api_for

# How the engine words a wait (workflows.replay): none of it may reach a page's text.
ENGINE = re.compile(r"signal '|step '|timer until|\bsignal \w+ until")


def visible(html: str) -> str:
    """The page's text as a person reads it: titles (a supervisor's hover) left out."""
    return unescape(re.sub(r'\stitle="[^"]*"', "", html))


@pytest.fixture
def floor(lab):
    """A sample at reception, one received, two in a closed GLU batch waiting for results
    (its batch run waiting for the instrument's run to start)."""
    lab.register("S-000701")
    lab.register("S-000702")
    lab.receive("S-000702")
    for barcode in ("S-000703", "S-000704"):
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    return lab


def test_the_scan_card_and_sample_page_say_what_the_lifecycle_waits_for(floor, signed_in):
    client = signed_in(floor.technician)
    for barcode, words in [
        ("S-000701", "Waiting for receipt at reception (window ends "),
        ("S-000702", "Waiting to be added to a batch (window ends "),
        ("S-000703", "Waiting for the GLU result (window ends "),
    ]:
        card = visible(
            client.post("/scan/", {"barcode": barcode}, HTTP_HX_REQUEST="true").content.decode()
        )
        page = visible(client.get(f"/samples/{barcode}/").content.decode())
        for text in (card, page):
            assert words in text and " UTC)" in text
            assert not ENGINE.search(text)


def test_the_worklist_dashboard_and_api_say_it_in_lab_words(floor, signed_in):
    client = signed_in(floor.reviewer)
    worklist = visible(client.get("/samples/").content.decode())
    assert worklist.count("Waiting for the GLU result (window ends ") == 2
    assert "Waiting for receipt at reception (window ends " in worklist
    assert "Waiting to be added to a batch (window ends " in worklist
    dashboard = visible(client.get("/dashboard/").content.decode())
    assert "Waiting for receipt at reception (window ends " in dashboard
    detail = api_for(floor.reviewer).get("/api/v1/samples/S-000703/").json()
    assert detail["waiting_for"].startswith("waiting for the GLU result (window ends ")
    for text in (worklist, dashboard, detail["waiting_for"]):
        assert not ENGINE.search(text)


def test_the_runs_console_says_it_in_lab_words_with_the_engines_text_in_a_title(floor, signed_in):
    client = signed_in(floor.reviewer)
    html = client.get("/workflows/runs/").content.decode()
    text = visible(html)
    assert "Waiting for receipt at reception (window ends " in text
    assert "Waiting for the GLU run to start on an instrument" in text  # the batch run
    assert not ENGINE.search(text)
    assert 'title="signal &#x27;reception&#x27; until ' in html  # for supervisors
    batch = Batch.objects.get()
    for run_id in (Sample.objects.get(barcode="S-000703").run_id, batch.run_id):
        live = client.get(f"/workflows/runs/{run_id}/").content.decode()
        assert not ENGINE.search(visible(live))
    live = client.get(f"/workflows/runs/{batch.run_id}/").content.decode()
    assert "Status: waiting &mdash; waiting for the GLU run to start on an instrument" in (
        re.sub(r"\s+", " ", html_of(live))
    )


def html_of(page: str) -> str:
    return re.sub(r"<[^>]+>", "", re.sub(r'\stitle="[^"]*"', "", page))


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("path", ["/samples/", "/dashboard/", "/workflows/runs/"])
def test_lists_read_their_waits_in_as_many_queries_for_many_rows_as_for_few(floor, signed_in, path):
    client = signed_in(floor.reviewer)
    few = _queries(client, path)
    for n in range(10, 22):
        floor.register(f"S-0007{n}")
        if n % 2:
            floor.receive(f"S-0007{n}")
    many = _queries(client, path)
    assert many == few
