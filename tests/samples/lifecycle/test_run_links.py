"""Every workflow run a sample or batch has had stays linked to it (``RunLink``), written by the
database whenever a run id is set, so a restart from a step loses nothing from its trail."""

from __future__ import annotations

import importlib
import uuid

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from samples.models import Batch, RunLink, Sample
from workflows.models import Run

pytestmark = pytest.mark.django_db


def make_run(restarted_from: str | None = None) -> str:
    now = timezone.now()
    run = Run.objects.create(
        workflow="sample_lifecycle",
        version=2,
        status="waiting",
        needs_advance=False,  # no history: the engine has nothing to advance
        created_at=now,
        updated_at=now,
        restarted_from=restarted_from,
    )
    return str(run.pk)


def links() -> dict[str, tuple[str | None, int | None]]:
    return {
        str(run_id): (barcode, batch_id)
        for run_id, barcode, batch_id in RunLink.objects.values_list(
            "run_id", "barcode", "batch_id"
        )
    }


@pytest.mark.histories_not_replayed("runs written by hand, without histories")
def test_a_sample_and_a_batch_are_linked_to_every_run_they_are_given(lab):
    sample = lab.register("S-000020")
    lab.receive("S-000020")
    lab.to_batch("S-000020")
    batch = Batch.objects.get()
    assert links() == {str(sample.run_id): ("S-000020", None), str(batch.run_id): (None, batch.pk)}

    newer = make_run()
    Sample.objects.filter(pk=sample.pk).update(run_id=newer)  # as a restart moves it
    assert links()[newer] == ("S-000020", None)
    assert links()[str(sample.run_id)] == ("S-000020", None)  # the old run keeps its link


def test_links_are_never_changed_or_removed(lab):
    sample = lab.register("S-000021")
    for change in (
        lambda: RunLink.objects.filter(run_id=sample.run_id).update(barcode="S-999999"),
        lambda: RunLink.objects.filter(run_id=sample.run_id).delete(),
    ):
        refused = r"Cannot update or delete|permission denied"
        with pytest.raises(DatabaseError, match=refused), transaction.atomic():
            change()
    assert links() == {str(sample.run_id): ("S-000021", None)}


@pytest.mark.histories_not_replayed("runs written by hand, without histories")
@pytest.mark.django_db(transaction=True)
def test_the_migration_links_the_runs_a_restart_left_behind(lab, rewrite_around_triggers):
    oldest = str(uuid.uuid4())
    first = make_run(restarted_from=oldest)  # a run restarted from one no longer kept
    second = make_run(restarted_from=first)
    sample = lab.register("S-000022")
    lifecycle = str(sample.run_id)
    # As the sample was before links existed: triggers off, as the owner of the tables.
    rewrite_around_triggers("samples_runlink", "DELETE FROM samples_runlink")
    rewrite_around_triggers(
        "samples_sample", "UPDATE samples_sample SET run_id = %s WHERE id = %s", second, sample.pk
    )
    assert links() == {}

    backfill = importlib.import_module("samples.migrations.0013_run_links").BACKFILL
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    found = links()
    assert found[second] == found[first] == found[oldest] == ("S-000022", None)
    assert lifecycle not in found  # never restarted into: nothing links it
