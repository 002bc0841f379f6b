"""Every Westgard rule through the run it judges: a control result recorded as an instrument's
(``services.control_record``) after its lot's history, in a GLU run on ``batch_run`` (version 3).
A 1-2s warning accepts the run; each rejection rule holds its patient results, the hold naming
the rule. Both engine modes; every history replayed from scratch after each test (the
suite's autouse check)."""

from __future__ import annotations

import pytest

from samples.errors import LabError
from samples.models import QcStatus, QcVerdict
from tests.modes import BOTH_MODES
from tests.samples.lab import Lab
from tests.samples.quality import control_post, history, make_lot, start_run_on_instrument
from workflows.api import get_run
from workflows.testing import WorkflowTestEnv

# The lot: mean 5.0, SD 0.2 (+1s 5.2, +2s 5.4, +3s 5.6; -2s 4.6).
# (the lot's earlier results, the new one, the rules it breaks, the rule the hold names)
RULES = {
    "1-3s": ((), "5.65", ["1-2s", "1-3s"], "1-3s"),
    "2-2s": (("5.45",), "5.5", ["1-2s", "2-2s"], "2-2s"),
    "R-4s": (("5.45",), "4.5", ["1-2s", "R-4s"], "R-4s"),
    "4-1s": (("5.25", "5.25", "5.3"), "5.25", ["4-1s"], "4-1s"),
    "10x": (("5.1",) * 9, "5.1", ["10x"], "10x"),
}


@pytest.fixture(params=BOTH_MODES)
def lab(request, technician, reviewer, instrument):
    with WorkflowTestEnv(moving_clock=True) as env:
        yield Lab(env, technician, reviewer, instrument)


def resulted_run(lab, earlier=()):
    """S-000801 resulted in a GLU run on the lab's instrument carrying control QC-GLU-1, whose
    lot has ``earlier`` results."""
    history(make_lot(lab.instrument), *earlier)
    lab.register("S-000801")
    lab.receive("S-000801")
    lab.to_batch("S-000801")
    lab.close_batches()
    batch = start_run_on_instrument(lab)
    lab.post("S-000801", "5.0")
    return batch


@pytest.mark.parametrize("rule", RULES)
def test_each_rejection_rule_holds_the_runs_patient_results(lab, rule):
    earlier, value, broken, named = RULES[rule]
    batch = resulted_run(lab, earlier)
    control_post(lab, batch, "QC-GLU-1", value, QcVerdict.REJECTED, broken)

    batch.refresh_from_db()
    assert batch.qc_status == QcStatus.REJECTED
    assert get_run(str(batch.run_id)).status == "waiting"  # for a supervisor's decision
    with pytest.raises(LabError, match=rf"held by QC \({named} on QC-GLU-1\)"):
        lab.verify("S-000801")
    assert lab.state("S-000801") == "resulted"


def test_a_1_2s_warning_alone_accepts_the_run(lab):
    batch = resulted_run(lab)
    control_post(lab, batch, "QC-GLU-1", "5.45", QcVerdict.WARNING, ["1-2s"])

    batch.refresh_from_db()
    assert batch.qc_status == QcStatus.ACCEPTED
    assert get_run(str(batch.run_id)).status == "completed"
    lab.verify("S-000801")
    assert lab.state("S-000801") == "reported"


def test_results_inside_2s_after_a_quiet_history_accept_the_run(lab):
    batch = resulted_run(lab, ("5.1", "4.9", "5.15", "4.85"))
    control_post(lab, batch, "QC-GLU-1", "5.3")

    batch.refresh_from_db()
    assert batch.qc_status == QcStatus.ACCEPTED
