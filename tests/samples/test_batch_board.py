"""The batch board: plate maps, starting a run, and results entered by hand."""

from __future__ import annotations

from samples.models import Batch, BatchStatus, Result


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
