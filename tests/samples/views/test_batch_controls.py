"""Controls on the batch board: their wells after the samples', a symbol and words with the
verdict and the rules broken, the batch's QC status, and a control's result entered by hand
(a refusal comes back as typed, with its reason)."""

from __future__ import annotations

import pytest

from samples import services
from samples.models import ControlLot, ControlResult
from tests.samples.quality import history, make_lot, run_with_controls


@pytest.fixture
def batch(lab):
    make_lot(lab.instrument)  # QC-GLU-1: mean 5.0, SD 0.2
    make_lot(lab.instrument, code="QC-GLU-2", level="2", mean="15", sd="0.5")
    return run_with_controls(lab, "S-000981")


def test_the_plate_map_shows_the_controls_after_the_sample(lab, batch, signed_in):
    body = signed_in(lab.reviewer).get("/batches/").content.decode()
    assert "QC: Waiting for its control results" in body
    assert f'id="batch-{batch.pk}-a2" data-status="control" data-verdict=""' in body
    assert "control QC-GLU-1: waiting for its result" in body
    assert f'id="batch-{batch.pk}-a3" data-status="control"' in body
    assert "control QC-GLU-2: waiting for its result" in body
    assert "◆</span> control, with its result" in body  # the legend
    assert "Enter the control" not in body  # a reviewer enters nothing


def test_the_plate_map_shows_each_controls_verdict_and_rules(lab, batch, signed_in):
    history(ControlLot.objects.get(code="QC-GLU-1"), "5.5")
    services.control_record(code="QC-GLU-1", value="5.45", instrument=lab.instrument)
    services.control_record(code="QC-GLU-2", value="16.1", instrument=lab.instrument)
    body = signed_in(lab.technician).get("/batches/").content.decode()
    assert "control QC-GLU-1: rejected 1-2s, 2-2s" in body
    assert "control QC-GLU-2: warning 1-2s" in body
    assert 'data-verdict="rejected"' in body and 'data-verdict="warning"' in body
    assert "Enter the control" not in body  # every control has its result


def test_a_technician_enters_a_controls_result_by_hand(lab, batch, signed_in):
    client = signed_in(lab.technician)
    assert "Enter the control's result by hand" in client.get("/batches/").content.decode()
    entry = {"control": "QC-GLU-2", "value": "15,2", "reason": "interface down"}
    response = client.post(f"/batches/{batch.pk}/control/", entry, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"Control QC-GLU-2 15.2 mmol/L recorded in batch {batch.pk}: in control." in body
    result = ControlResult.objects.get()
    assert (result.entered_by, result.entry_reason) == (lab.technician, "interface down")
    assert "control QC-GLU-2: in control" in body


@pytest.mark.parametrize(
    ("entry", "status", "reason"),
    [
        ({"value": "5.1", "reason": ""}, 400, "needs a reason"),
        ({"value": "1e3", "reason": "interface down"}, 400, "is not a number"),
        ({"value": "4,9,1", "reason": "interface down"}, 400, "4,9,1"),
        ({"control": "QC-NONE", "value": "5", "reason": "down"}, 400, "Unknown control QC-NONE"),
    ],
)
def test_a_refused_entry_comes_back_as_typed(lab, batch, signed_in, entry, status, reason):
    entry = {"control": "QC-GLU-1", **entry}
    response = signed_in(lab.technician).post(f"/batches/{batch.pk}/control/", entry)
    assert response.status_code == status
    body = response.content.decode()
    assert reason in body
    assert f'value="{entry["value"]}"' in body
    if entry["reason"]:
        assert f'value="{entry["reason"]}"' in body
    assert not ControlResult.objects.exists()


def test_a_second_entry_for_a_control_is_refused_with_409(lab, batch, signed_in):
    client = signed_in(lab.technician)
    entry = {"control": "QC-GLU-1", "value": "5.0", "reason": "interface down"}
    assert client.post(f"/batches/{batch.pk}/control/", entry).status_code == 302
    again = client.post(f"/batches/{batch.pk}/control/", {**entry, "value": "5.1"})
    assert again.status_code == 409
    assert "already has its result" in again.content.decode()
    assert ControlResult.objects.count() == 1


def test_only_a_technician_enters_a_controls_result(lab, batch, signed_in):
    entry = {"control": "QC-GLU-1", "value": "5.0", "reason": "interface down"}
    response = signed_in(lab.reviewer).post(f"/batches/{batch.pk}/control/", entry)
    assert response.status_code == 403
    assert not ControlResult.objects.exists()
