"""The answer to a bench action, through the production web server (gunicorn) with a real
Celery worker: it comes once the lifecycle has reached its next wait, so the card it brings
already shows the new state and what the lifecycle waits for now, in the lab's words; "add to
the open batch" (two steps on the worker: join the batch, mark the sample) included."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from samples import services
from tests.samples.lab import make_assay
from tests.web import production_web, signed_in
from tests.workers import Worker, redis_client, wait_until, worker_broker_url
from workflows.api import get_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HTMX = {"HX-Request": "true"}


@pytest.fixture
def worker(tmp_path):
    redis_client(worker_broker_url()).flushdb()
    started = Worker(log=tmp_path / "worker.log").start()
    yield started
    started.stop()


@pytest.fixture
def web(tmp_path):
    # A worker records a step within a fraction of a second; a test machine shared with other
    # work may be slower, and the answer must still come with the new state.
    with production_web(tmp_path, BENCH_ACTION_WAIT_SECONDS="20") as url:
        yield url


def card_of(answer: str) -> str:
    return answer.split('<div id="bench-message"')[0]


def test_the_answer_to_a_receive_click_already_shows_received_and_what_comes_next(
    web, worker, technician
):
    make_assay(batch_capacity=5)
    sample = services.sample_register(
        user=technician, barcode="S-000301", specimen_type="serum", subject_ref="SUBJ-1",
        collected_at=timezone.now() - timedelta(hours=1), assays=["GLU"],
    )  # fmt: skip
    wait_until(lambda: "reception" in get_run(str(sample.run_id), history=False).waiting_for,
               seconds=60)  # fmt: skip
    bench = signed_in(web, technician.username)
    token = {"csrfmiddlewaretoken": bench.cookies["csrftoken"]}

    receipt = {**token, "condition": "acceptable"}
    answer = bench.post(f"{web}/samples/S-000301/receive/", data=receipt, headers=HTMX)
    assert answer.status_code == 200
    card = card_of(answer.text)
    assert '<span class="state-badge">Received</span>' in card
    assert re.search(r'<dd class="waiting-for">Waiting to be added to a batch \(window ends '
                     r"\d\d \w{3} \d{4} \d\d:\d\d UTC\)</dd>", card)  # fmt: skip
    assert "Add to the open batch" in card
    assert "receipt recorded; its lifecycle moves it on" not in answer.text

    answer = bench.post(f"{web}/samples/S-000301/batch/", data=token, headers=HTMX)
    assert answer.status_code == 200
    card = card_of(answer.text)
    assert '<span class="state-badge">Awaiting batch</span>' in card
    assert '<dd class="waiting-for">Waiting for the GLU batch to close (window ends ' in card
    assert "its lifecycle moves it on" not in answer.text
