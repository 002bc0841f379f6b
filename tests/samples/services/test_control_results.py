"""Recording a control result (samples/services/controls.py): evaluated over its lot's history,
stored with its rules and verdict, its batch's run told; every refusal writes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from samples import services
from samples.errors import LabError, NotAllowed
from samples.models import BatchControl, ControlResult, QcStatus, QcVerdict
from tests.samples.quality import history, make_lot, run_with_controls
from workflows.api import get_run


@pytest.fixture
def lot(lab):
    return make_lot(lab.instrument)  # GLU on Cobas-1: mean 5.0, SD 0.2 (+2 SD is 5.4)


@pytest.fixture
def batch(lab, lot):
    return run_with_controls(lab)


def control_signals(batch, code="QC-GLU-1"):
    return [
        entry
        for entry in get_run(str(batch.run_id)).history
        if entry.data.get("name") == f"control:{code}"
    ]


def record(lab, value, **kwargs):
    kwargs.setdefault("instrument", lab.instrument)
    return services.control_record(code=kwargs.pop("code", "QC-GLU-1"), value=value, **kwargs)


def test_the_run_carries_the_control_after_its_sample(batch, lot):
    position = BatchControl.objects.get(batch=batch)
    assert (position.lot, position.position) == (lot, 2)
    assert batch.qc_status == QcStatus.PENDING


def test_a_result_in_range_is_in_control_and_tells_the_run(lab, batch, lot):
    recorded = record(lab, "5.1")
    result = recorded.result
    assert not recorded.repeated
    assert (result.value, result.rules, result.verdict) == (Decimal("5.1"), [], "in_control")
    assert result.control.batch == batch and result.instrument == lab.instrument
    assert result.units == "mmol/L"
    [told] = control_signals(batch)
    assert told.data["payload"] == {"control_result_id": result.pk, "verdict": "in_control"}
    assert told.actor == lab.instrument.service_user.username


def test_the_codes_case_and_blanks_do_not_matter(lab, batch):
    assert record(lab, "5.0", code="  qc-glu-1 ").result.lot.code == "QC-GLU-1"


def test_a_result_beyond_2sd_is_a_warning(lab, batch):
    result = record(lab, "5.41").result
    assert (result.rules, result.verdict) == (["1-2s"], QcVerdict.WARNING)
    assert control_signals(batch)[0].data["payload"]["verdict"] == "warning"


def test_the_rules_read_the_lots_history_across_runs(lab, batch, lot):
    history(lot, "5.0", "5.45")
    result = record(lab, "5.5").result
    assert (result.rules, result.verdict) == (["1-2s", "2-2s"], QcVerdict.REJECTED)
    assert control_signals(batch)[0].data["payload"]["verdict"] == "rejected"


def test_the_rules_read_only_the_results_measured_before_it(lab, batch, lot):
    earlier = history(lot, "5.45", "5.0")  # the 5.0 is the newest
    measured = earlier[0].measured_at + timedelta(hours=1)  # between the two
    result = record(lab, "5.5", measured_at=measured).result
    assert result.rules == ["1-2s", "2-2s"]


def test_10x_reads_ten_results_of_the_lot(lab, batch, lot):
    history(lot, *["5.1"] * 9)
    assert record(lab, "5.1").result.rules == ["10x"]


def test_other_lots_results_are_not_read(lab, batch, lot):
    other = make_lot(lab.instrument, code="QC-GLU-2", level="2", mean="15", sd="0.5")
    history(other, "16.5")
    history(lot, "5.0")
    assert record(lab, "5.45").result.rules == ["1-2s"]


def test_the_same_result_sent_again_is_a_repeat(lab, batch):
    measured = timezone.now() - timedelta(minutes=5)
    first = record(lab, "5.1", measured_at=measured).result
    again = record(lab, "5.1", measured_at=measured)
    assert again.repeated and again.result == first
    assert ControlResult.objects.count() == 1
    assert len(control_signals(batch)) == 1


def test_a_second_result_for_the_position_is_refused(lab, batch):
    record(lab, "5.1")
    with pytest.raises(LabError, match="already has its result"):
        record(lab, "5.2")
    assert ControlResult.objects.count() == 1
    assert len(control_signals(batch)) == 1


def test_by_hand_with_a_reason_and_a_decimal_comma(lab, batch, technician):
    result = services.control_record(
        code="QC-GLU-1", value="5,2", user=technician, reason="interface down", batch_id=batch.pk
    ).result
    assert (result.value, result.entered_by, result.instrument) == (
        Decimal("5.2"),
        technician,
        None,
    )
    assert result.entry_reason == "interface down"
    assert control_signals(batch)[0].actor == technician.username


def refused(lab, value="5.1", **kwargs):
    before = ControlResult.objects.count()
    with pytest.raises(LabError) as raised:
        record(lab, value, **kwargs)
    assert ControlResult.objects.count() == before
    return raised.value


@pytest.mark.usefixtures("batch")
class TestRefusals:
    def test_an_unknown_lot(self, lab):
        refusal = refused(lab, code="QC-NONE")
        assert (refusal.field, refusal.message) == (
            "control",
            "Unknown control QC-NONE: no control lot has that code.",
        )

    def test_an_inactive_lot(self, lab, lot):
        lot.is_active = False
        lot.save()
        assert "no longer in use" in refused(lab).message

    def test_an_expired_lot(self, lab, lot):
        lot.expires_on = timezone.localdate() - timedelta(days=1)
        lot.save()
        assert "expired on" in refused(lab).message

    @pytest.mark.parametrize("value", ["1e3", "NaN", "4,9", "\uff15", "", "high", "12345678901"])
    def test_a_value_that_is_not_a_number_from_an_instrument(self, lab, value):
        assert refused(lab, value).field == "value"

    def test_a_negative_value_for_an_assay_that_cannot_be(self, lab):
        assert refused(lab, "-1").field == "value"

    def test_other_units(self, lab):
        assert refused(lab, units="mg/dL").field == "units"

    def test_another_assay(self, lab):
        assert refused(lab, assay_code="NA").field == "assay"

    def test_another_instrument(self, lab, lot):
        other, _ = services.instrument_register(
            name="Cobas-2", model="cobas c 311", serial="C311-0002", assay_codes=["GLU"]
        )
        assert refused(lab, instrument=other).field == "instrument"

    def test_no_running_batch_with_a_position_for_the_lot(self, lab):
        make_lot(lab.instrument, code="QC-GLU-2", level="2", mean="15")  # set up after the start
        assert "No running batch has a position for control QC-GLU-2" in (
            refused(lab, code="QC-GLU-2").message
        )

    def test_by_hand_without_a_reason(self, lab, technician):
        refusal = refused(lab, instrument=None, user=technician, reason="  ")
        assert refusal.field == "reason"

    def test_by_hand_by_a_reviewer(self, lab, reviewer):
        with pytest.raises(NotAllowed):
            record(lab, "5.1", instrument=None, user=reviewer, reason="why not")
        assert not ControlResult.objects.exists()

    def test_by_hand_into_a_batch_not_running(self, lab, technician, batch):
        refusal = refused(lab, instrument=None, user=technician, reason="r", batch_id=batch.pk + 1)
        assert f"Batch {batch.pk + 1} is not running" in refusal.message

    def test_a_measurement_time_outside_what_can_be_stored(self, lab):
        from datetime import UTC, datetime

        assert refused(lab, measured_at=datetime(1999, 1, 1, tzinfo=UTC)).field == "measured_at"

    def test_nothing_is_signalled(self, lab, batch):
        refused(lab, "1e3")
        assert control_signals(batch) == []
