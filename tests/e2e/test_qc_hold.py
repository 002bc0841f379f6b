"""A run rejected by QC in a real browser (Debian's Chromium driven by Playwright), against the
live server, with a real Celery worker moving the workflows on: the review page shows the
sample held, with the reason, and nothing to tick; the supervisor opens the run's QC page and
accepts the run with a reason and the password; the sample can then be ticked and signed."""

from __future__ import annotations

import pytest

from samples import services
from samples.models import QcVerdict
from samples.roles import Role
from tests.cast import PASSWORD
from tests.e2e.pages import sign_in
from tests.samples.lab import Lab, make_assay
from tests.samples.quality import control_post, history, make_lot, start_run_on_instrument
from workflows.ops import run_inline

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BARCODE = "S-300001"


@pytest.fixture
def held(technician, reviewer, make_user):
    """A resulted sample in a run whose control broke 2-2s, made before the browser starts
    (once Playwright runs its event loop in this thread, a database call here would open a
    second connection that outlives the test)."""
    make_assay(batch_capacity=1)  # a batch of one closes as soon as the sample joins
    instrument, _token = services.instrument_register(
        name="Cobas-1", model="cobas c 311", serial="C311-0001", assay_codes=["GLU"]
    )
    history(make_lot(instrument), "5.45")  # an earlier run's result above +2 SD
    supervisor = make_user("kim", Role.REVIEWER, first_name="Dr", last_name="Kim")
    with run_inline() as engine:
        lab = Lab(engine, technician, reviewer, instrument)
        lab.register(BARCODE)
        lab.receive(BARCODE)
        lab.to_batch(BARCODE)
        batch = start_run_on_instrument(lab)
        lab.post(BARCODE, "5.0")
        control_post(lab, batch, "QC-GLU-1", "5.5", QcVerdict.REJECTED, ["1-2s", "2-2s"])
    return supervisor, batch.pk


def test_a_held_sample_becomes_signable_once_the_supervisor_accepts_the_run(
    held, live_server, worker, browser
):
    supervisor, batch_id = held
    page = sign_in(browser, live_server, supervisor.username)
    page.goto(f"{live_server.url}/review/")
    card = page.locator(f"#review-{BARCODE}")
    card.get_by_text("Held by QC: not signable").wait_for()
    assert f"GLU run of batch {batch_id} is held by QC (2-2s on QC-GLU-1)" in card.inner_text()
    assert page.locator(f"#pick-{BARCODE}").count() == 0

    card.get_by_role("link", name="The run's QC and the decision").click()
    page.locator("#qc-status", has_text="Rejected by QC").wait_for()
    page.check("input[name=decision][value=accept]")
    page.fill("input[name=reason]", "patient results consistent with the previous run")
    page.fill("#qc-decision input[name=username]", supervisor.username)
    page.fill("#qc-decision input[name=password]", PASSWORD)
    page.get_by_role("button", name="Decide").click()
    page.get_by_text(f"Batch {batch_id}: run accepted despite QC by Dr Kim").wait_for()
    assert "Rejected by QC, accepted by a supervisor" in page.locator("#qc-status").inner_text()

    page.goto(f"{live_server.url}/review/")
    page.check(f"#pick-{BARCODE}")
    # Signed once already in this session (the decision): the password alone now.
    assert page.locator("#sign-form input[name=username]").count() == 0
    page.fill("#sign-form input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign selected: reviewed and released").click()
    card.get_by_text("reviewed and released by Dr Kim").wait_for()
