"""The worklist: filters by state, assay and overdue; bad filters are explained, not a 500."""

from __future__ import annotations

from tests.samples.lab import make_assay


def barcodes(response):
    return [row for row in ("S-000801", "S-000802", "S-000803") if row in response.content.decode()]


def test_filters_by_state_assay_and_overdue(lab, signed_in):
    make_assay(
        "NA",
        name="Sodium",
        units="mmol/L",
        reference_low=135,
        reference_high=145,
        critical_low=120,
        critical_high=160,
    )
    lab.register("S-000801")
    lab.register("S-000802", "NA")
    lab.register("S-000803", collected_hours_ago=23)  # one hour left of its 24 h window
    lab.receive("S-000801")
    client = signed_in(lab.reviewer)
    assert barcodes(client.get("/samples/")) == ["S-000801", "S-000802", "S-000803"]
    assert barcodes(client.get("/samples/?state=received")) == ["S-000801"]
    assert barcodes(client.get("/samples/?assay=NA")) == ["S-000802"]
    assert barcodes(client.get("/samples/?overdue=1")) == ["S-000803"]


def test_an_unknown_filter_value_is_explained_and_ignored(lab, signed_in):
    lab.register("S-000801")
    response = signed_in(lab.technician).get("/samples/?state=lost&assay=XYZ&page=abc")
    body = response.content.decode()
    assert response.status_code == 400
    assert "There is no state &#x27;lost&#x27;" in body and "There is no assay" in body
    assert "S-000801" in body
