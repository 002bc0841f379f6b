"""The batch board: plate maps (wells A1 to H12, each status in words and symbol, a legend),
when an open batch closes, starting a run, and results entered by hand."""

from __future__ import annotations

import re

from samples.models import Batch, BatchStatus, Result
from samples.templatetags.lab_format import utc_iso, utc_time
from tests.samples.quality import make_lot, run_with_controls


def closed_batch(lab, *barcodes):
    for barcode in barcodes:
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    return Batch.objects.get(status=BatchStatus.CLOSED)


def test_the_board_shows_each_batch_with_its_plate_map(lab, signed_in):
    closed_batch(lab, "S-000601", "S-000602")
    body = signed_in(lab.reviewer).get("/batches/").content.decode()
    assert "GLU batch" in body and "Closed, waiting for its run" in body
    assert "2 of 3 positions" in body
    assert body.index("S-000601") < body.index("S-000602")
    assert "Start the run" not in body  # a reviewer does not start runs


def test_a_technician_starts_the_run_on_an_instrument_of_the_assay(lab, signed_in):
    batch = closed_batch(lab, "S-000611")
    client = signed_in(lab.technician)
    response = client.post(f"/batches/{batch.pk}/start/", {"instrument": lab.instrument.pk})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RUNNING and batch.instrument == lab.instrument
    assert batch.started_by == lab.technician
    again = client.post(f"/batches/{batch.pk}/start/", follow=True)
    assert "its run has already started" in again.content.decode()


def test_an_open_batch_cannot_start_and_the_refusal_says_why(lab, signed_in):
    lab.register("S-000621")
    lab.receive("S-000621")
    lab.to_batch("S-000621")
    batch = Batch.objects.get()
    response = signed_in(lab.technician).post(f"/batches/{batch.pk}/start/", follow=True)
    assert "is still open" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.OPEN


def test_a_result_entered_by_hand_needs_a_reason_and_then_moves_the_sample_on(lab, signed_in):
    batch = closed_batch(lab, "S-000631")
    client = signed_in(lab.technician)
    client.post(f"/batches/{batch.pk}/start/")
    entry = {"barcode": "S-000631", "assay": "GLU", "value": "5.5"}
    refused = client.post(f"/batches/{batch.pk}/result/", {**entry, "reason": ""}, follow=True)
    assert "needs a reason" in refused.content.decode()
    assert not Result.objects.exists()
    client.post(f"/batches/{batch.pk}/result/", {**entry, "reason": "analyser down"})
    lab.env.run_until_idle()
    result = Result.objects.get()
    assert result.entered_by == lab.technician and result.entry_reason == "analyser down"
    assert lab.state("S-000631") == "resulted"
    bad = client.post(
        f"/batches/{batch.pk}/result/", {**entry, "value": "abc", "reason": "x"}, follow=True
    )
    assert "&#x27;abc&#x27; is not a number." in bad.content.decode()
    assert Result.objects.count() == 1


def test_wells_are_named_a1_to_h12_row_by_row():
    from samples.values.plates import well_name

    assert [well_name(p) for p in (1, 2, 12, 13, 24, 85, 96)] == [
        "A1", "A2", "A12", "B1", "B12", "H1", "H12"
    ]  # fmt: skip
    assert well_name(97) == "plate 2 A1"


def test_the_plate_map_names_wells_and_says_each_status_in_words_with_a_legend(lab, signed_in):
    batch = closed_batch(lab, "S-000641", "S-000642")
    lab.start_run()
    lab.post("S-000641", "5.0")
    body = signed_in(lab.reviewer).get("/batches/").content.decode()
    assert 'aria-label="Plate map legend"' in body
    for words in ("empty well", "sample waiting for its result", "sample resulted"):
        assert words in body
    wells = re.findall(
        rf'<li class="well-(\w+)" id="batch-{batch.pk}-(\w+)" data-status="\w+">'
        r'<span class="pos"><span class="well-name">(\w+)</span> '
        r'<span class="well-mark" aria-hidden="true">(.)</span>'
        r'<span class="visually-hidden">([\w ]+)</span>',
        body,
    )
    assert [(w[0], w[2], w[3], w[4]) for w in wells] == [
        ("resulted", "A1", "✓", "resulted"),
        ("waiting", "A2", "◐", "waiting for its result"),
        ("empty", "A3", "○", "empty"),
    ]
    assert ">1<" not in body and ">2<" not in body  # no bare position numbers


def test_an_open_batch_says_when_it_closes_as_a_time(lab, signed_in):
    lab.register("S-000651")
    lab.receive("S-000651")
    lab.to_batch("S-000651")
    batch = Batch.objects.get()
    closes = batch.opened_at + batch.assay.batch_close_after
    body = signed_in(lab.reviewer).get("/batches/").content.decode()
    assert f'Closes when full, or at <time datetime="{utc_iso(closes)}">' in body
    assert f"{utc_time(closes)}</time>." in body
    assert " + " not in body


def test_the_board_reads_its_batches_in_a_bounded_number_of_queries(
    lab, signed_in, django_assert_max_num_queries
):
    """One batch or several, running with controls or open: the same number of queries."""
    make_lot(lab.instrument)
    client = signed_in(lab.technician)
    run_with_controls(lab, "S-000631")
    assert client.get("/batches/").status_code == 200
    bound = 14  # the session, the user and their roles, the board, the instruments, a session save
    with django_assert_max_num_queries(bound):
        page = client.get("/batches/").content.decode()
    assert page.count('class="card batch') == 1
    run_with_controls(lab, "S-000632")
    for barcode in ["S-000633", "S-000634", "S-000635", "S-000636"]:
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    with django_assert_max_num_queries(bound):
        page = client.get("/batches/").content.decode()
    assert page.count('class="card batch') == 4
    assert page.count("control QC-GLU-1: waiting for its result") == 2
