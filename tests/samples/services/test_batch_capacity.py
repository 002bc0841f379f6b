"""A batch never holds more samples than its capacity: not when samples join it at the same
moment, not when one joins a full batch its run has not closed yet, and not whoever inserts a
member (the database refuses a position past the capacity)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from samples import services
from samples.models import Assay, Batch, BatchMember, BatchStatus, Sample


@pytest.fixture
def two_places(lab):
    """GLU batches of two places; S-000981 already holds the first place of the open one."""
    Assay.objects.filter(code="GLU").update(batch_capacity=2)
    for barcode in ("S-000981", "S-000982", "S-000983"):
        lab.register(barcode)
    services.batch_join(barcode="S-000981", assay_code="GLU", join_key="join:S-000981")
    return Batch.objects.get(status=BatchStatus.OPEN)


def places():
    return sorted(
        BatchMember.objects.values_list("batch_id", "position", "sample__barcode").order_by()
    )


def waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_samples_joining_the_last_place_at_once_never_exceed_the_capacity(two_places):
    """Both joiners are inside their transactions at the same moment (each on its own database
    connection, held at the assay's lock until both wait there): one takes the last place, the
    other opens the next batch."""
    locked, release, errors = threading.Event(), threading.Event(), []

    def gate():
        try:
            with transaction.atomic():
                Assay.objects.select_for_update().get(code="GLU")
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    def join(barcode):
        try:
            services.batch_join(barcode=barcode, assay_code="GLU", join_key=f"join:{barcode}")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=gate)
    holder.start()
    assert locked.wait(10)
    joiners = [threading.Thread(target=join, args=(b,)) for b in ("S-000982", "S-000983")]
    for joiner in joiners:
        joiner.start()
    deadline = time.monotonic() + 10
    while waiting_for_a_lock() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert waiting_for_a_lock() == 2, "both joiners wait inside their transactions"
    release.set()
    for thread in (holder, *joiners):
        thread.join(30)
    assert errors == []
    first = two_places
    [second] = Batch.objects.exclude(pk=first.pk)
    members = places()
    assert [m[:2] for m in members] == [(first.pk, 1), (first.pk, 2), (second.pk, 1)]
    assert {m[2] for m in members} == {"S-000981", "S-000982", "S-000983"}
    first.refresh_from_db()
    assert first.status == BatchStatus.CLOSED and second.status == BatchStatus.OPEN
    for batch in (first, second):
        assert batch.members.count() <= batch.capacity


def test_a_sample_joining_a_full_batch_not_yet_closed_opens_the_next_one(two_places):
    services.batch_join(barcode="S-000982", assay_code="GLU", join_key="join:S-000982")
    assert Batch.objects.get(pk=two_places.pk).status == BatchStatus.OPEN  # its run closes it
    answer = services.batch_join(barcode="S-000983", assay_code="GLU", join_key="join:S-000983")
    full = Batch.objects.get(pk=two_places.pk)
    assert (full.status, full.members.count()) == (BatchStatus.CLOSED, 2)
    assert full.closed_at is not None
    assert answer["position"] == 1 and answer["batch_id"] != full.pk
    assert Batch.objects.get(pk=answer["batch_id"]).status == BatchStatus.OPEN


def test_the_run_of_a_batch_closed_by_a_joiner_still_tells_its_members(lab, two_places):
    """The batch's run closes it as before (it was told it was full) and tells both members
    their places, though a joiner closed it first."""
    services.batch_join(barcode="S-000982", assay_code="GLU", join_key="join:S-000982")
    services.batch_join(barcode="S-000983", assay_code="GLU", join_key="join:S-000983")
    lab.env.run_until_idle()
    closed = services.batch_close(batch_id=two_places.pk)
    assert closed == [
        {"barcode": "S-000981", "position": 1},
        {"barcode": "S-000982", "position": 2},
    ]


def test_the_database_refuses_a_position_past_the_capacity(two_places):
    sample = Sample.objects.get(barcode="S-000982")
    with pytest.raises(IntegrityError, match="past its capacity"), transaction.atomic():
        BatchMember.objects.create(
            batch=two_places, sample=sample, position=3, added_at=timezone.now(), join_key="x"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        BatchMember.objects.create(
            batch=two_places, sample=sample, position=0, added_at=timezone.now(), join_key="y"
        )
    assert BatchMember.objects.count() == 1
