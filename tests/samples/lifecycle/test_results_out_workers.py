"""Results out on real Celery workers: a worker SIGKILLed while it waits for a destination's
ACK is replaced, and the retry sends the very same message (the same bytes, the same control
id), never a second one with a new control id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from samples import services
from samples.lifecycle.names import RESULTS_OUT
from samples.models import Destination, OutboundMessage, OutboundStatus
from tests.samples.peers import MllpPeer
from tests.workers import Worker, redis_client, wait_until, worker_broker_url
from workflows import executor
from workflows.api import get_run, start

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The worker's settings: a short wait for the ACK (so a lost attempt's lease, 2 x 5 + 10 + 5
# seconds, runs out soon) and a retry one second later.
FAST = {"OUTBOX_ACK_TIMEOUT_SECONDS": "5", "OUTBOX_RETRY_SECONDS": "1"}


@pytest.fixture
def broker():
    client = redis_client(worker_broker_url())
    client.flushdb()
    yield client
    client.flushdb()


def test_a_worker_killed_waiting_for_the_ack_is_replaced_and_the_same_message_sent_again(
    tmp_path, broker, technician, glucose
):
    services.sample_register(
        user=technician, barcode="S-000801", specimen_type="serum", subject_ref="SUBJ-801",
        collected_at=timezone.now() - timedelta(hours=1), assays=["GLU"],
    )  # fmt: skip
    started: list[Worker] = []
    with MllpPeer("silent", then="AA") as ward:
        Destination.objects.create(name="ward", protocol="mllp", host="127.0.0.1", port=ward.port)
        try:
            started.append(Worker(log=tmp_path / "worker.log", env=FAST).start())
            run_id = start(RESULTS_OUT, "S-000801", "original", [], key="test:801")
            wait_until(lambda: ward.received, seconds=60)
            started[0].kill()  # SIGKILL while it waits for the ACK
            message = OutboundMessage.objects.get()
            assert message.status == OutboundStatus.SENT and message.attempts == 1

            started.append(Worker(log=tmp_path / "worker.log", env=FAST).start())
            wait_until(
                lambda: get_run(run_id, history=False).status == "completed",
                seconds=120, every=0.5, also=executor.sweep,
            )  # fmt: skip
        finally:
            for worker in started:
                worker.kill()

    message.refresh_from_db()
    assert message.status == OutboundStatus.ACKNOWLEDGED and message.attempts == 2
    assert OutboundMessage.objects.count() == 1
    assert len(ward.received) == 2 and ward.received[0] == ward.received[1]
    assert message.control_id in ward.received[1]
    run = get_run(run_id)
    assert run.result == "acknowledged"
    lost = [e for e in run.history if e.kind == "step_failed"]
    assert [(e.attempt, e.data["error_type"]) for e in lost] == [(1, "StepTimeout")]
    prepared = [e for e in run.history if e.kind == "step_completed" and e.attempt == 1]
    assert prepared[0].data["result"] == [message.pk]  # prepared once, before the send
