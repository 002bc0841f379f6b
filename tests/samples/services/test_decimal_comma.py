"""A value a person types may have a decimal comma: "4,9" is 4.9 by hand on the batch board,
in a correction and in the runs console's filter. A value whose decimal separator cannot be
known ("1.234,5", "4,9,1") is refused with the reason, and nothing is recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from samples.errors import LabError
from samples.models import Batch, BatchStatus, Result
from samples.values.numbers import decimal_point


@pytest.mark.parametrize(
    ("typed", "read"),
    [("4,9", "4.9"), (" 4,9 ", "4.9"), ("4.9", "4.9"), ("-0,5", "-0.5"), ("12", "12")],
)
def test_a_decimal_comma_reads_as_a_point(typed, read):
    assert decimal_point(typed) == read


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("1.234,5", "has both a point and a comma"),
        ("1,234.5", "has both a point and a comma"),
        ("4,9,1", "has more than one comma"),
    ],
)
def test_a_value_with_an_unknowable_separator_is_refused_with_the_reason(typed, said):
    with pytest.raises(LabError) as refused:
        decimal_point(typed)
    assert said in refused.value.message and refused.value.field == "value"


@pytest.fixture
def running(lab):
    """S-000871 waits for its GLU result in a running batch."""
    lab.register("S-000871")
    lab.receive("S-000871")
    lab.to_batch("S-000871")
    lab.close_batches()
    return lab.start_run()


def enter(client, batch, value):
    form = {"barcode": "S-000871", "assay": "GLU", "value": value, "reason": "analyser down"}
    return client.post(f"/batches/{batch.pk}/result/", form)


@pytest.mark.parametrize(
    ("typed", "said"),
    [("1.234,5", "has both a point and a comma"), ("4,9,1", "has more than one comma")],
)
def test_an_ambiguous_value_by_hand_is_refused_and_nothing_is_recorded(
    lab, running, signed_in, typed, said
):
    response = enter(signed_in(lab.technician), running, typed)
    assert response.status_code == 400 and said in response.content.decode()
    assert not Result.objects.exists()


def test_a_result_by_hand_with_a_decimal_comma_is_recorded_as_its_number(lab, running, signed_in):
    response = enter(signed_in(lab.technician), running, "4,9")
    assert response.status_code == 302
    lab.env.run_until_idle()
    assert Result.objects.get().value == Decimal("4.9")
    assert lab.state("S-000871") == "resulted"
    assert Batch.objects.get(pk=running.pk).status == BatchStatus.COMPLETED


def test_a_correction_with_a_decimal_comma_is_recorded_as_its_number(lab, running, signed_in):
    lab.post("S-000871", "5.0")
    result = Result.objects.get()
    client = signed_in(lab.technician)
    url = f"/samples/S-000871/results/{result.pk}/amend/"
    refused = client.post(url, {"value": "4,9,1", "reason": "typo"})
    assert refused.status_code == 400 and "has more than one comma" in refused.content.decode()
    assert client.post(url, {"value": "5,2", "reason": "typo"}).status_code == 302
    result.refresh_from_db()
    assert result.value == Decimal("5.2")


def test_an_instrument_value_with_a_comma_is_still_refused(lab, running):
    """Instruments send machine text: a comma there is a fault to report, not a way of writing."""
    with pytest.raises(LabError, match="is not a number"):
        lab.post("S-000871", "4,9")


def test_the_runs_filter_reads_hours_with_a_decimal_comma(lab, signed_in, administrator):
    client = signed_in(administrator)
    page = client.get("/workflows/runs/", {"waiting": "0,5"}).content.decode()
    assert "Waiting longer than is a number of hours" not in page
    refused = client.get("/workflows/runs/", {"waiting": "1.000,5"}).content.decode()
    assert "Waiting longer than is a number of hours" in refused
