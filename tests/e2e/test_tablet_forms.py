"""Buttons and fields at a bench tablet's size, in a real browser (Debian's Chromium, driven by
Playwright, at 768 x 1024): primary and danger actions (Receive, Reject, Match, Discard, a
result by hand) are drawn in their colours, never plain white, and every text field and menu
is at least 16px (a tablet does not zoom in on it) and 44px high (a finger's touch target).
The figures are the browser's computed styles, after the whole cascade. A screenshot of the
batch board at that size is written to ``test-output/e2e/``."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from samples import services
from samples.services.tokens import api_token_create
from tests.e2e.pages import sign_in
from tests.processes import REPO
from tests.samples.lab import Lab, make_assay
from workflows.testing import WorkflowTestEnv

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 768, "height": 1024}
WHITE = "rgb(255, 255, 255)"
SCREENSHOTS = REPO / "test-output" / "e2e"


@pytest.fixture
def scene(technician, reviewer):
    """Made before the browser starts, the workflows run in-process: S-200001 waits for its
    result in a running batch, S-200002 is registered (to receive or reject), and an
    instrument's result for an unknown barcode waits in the inbox."""
    make_assay()
    instrument, _ = services.instrument_register(
        name="Cobas-1", model="cobas c 311", serial="C311-0001", assay_codes=["GLU"]
    )
    with WorkflowTestEnv(moving_clock=True) as env:
        lab = Lab(env, technician, reviewer, instrument)
        lab.register("S-200001")
        lab.receive("S-200001")
        lab.to_batch("S-200001")
        lab.close_batches()
        lab.start_run()
        lab.register("S-200002")
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION=f"Token {api_token_create(owner=instrument.service_user)}"
        )
        body = {"sample": "S-299999", "assay": "GLU", "value": "4.8", "run_id": "R-1"}
        sent = client.post("/api/v1/results/", json.dumps(body), content_type="application/json")
        assert sent.status_code == 202
        env.run_until_idle()
    return technician


BUTTONS = """els => els.map(e => [e.textContent.trim().split(/\\s+/)[0],
    getComputedStyle(e).backgroundColor, getComputedStyle(e).color])"""
FIELDS = """els => els.map(e => [e.name, e.type, e.getAttribute('inputmode') || '',
    parseFloat(getComputedStyle(e).fontSize), e.getBoundingClientRect().height])"""
TEXT_FIELDS = "main input:not([type=hidden]):not([type=checkbox]):not([type=file]), main select"


def buttons(page):
    """(first word, background, text colour) of each primary and danger button of the page."""
    return page.eval_on_selector_all("main .btn-primary, main .btn-danger", BUTTONS)


def fields(page):
    return page.eval_on_selector_all(TEXT_FIELDS, FIELDS)


def assert_tablet_sized(found):
    assert found
    for name, kind, _, font_px, height_px in found:
        assert kind in ("text", "password", "select-one"), (name, kind)
        assert font_px >= 16, (name, font_px)
        assert height_px >= 44, (name, height_px)


def test_actions_are_coloured_and_fields_sized_for_a_tablet(scene, live_server, browser):
    bench = sign_in(browser, live_server, scene.username, viewport=TABLET)

    bench.goto(f"{live_server.url}/scan/")
    bench.locator("#barcode").fill("S-200002")
    bench.keyboard.press("Enter")
    bench.locator("#card-S-200002 .card-actions").wait_for()
    colours = dict((word, (bg, ink)) for word, bg, ink in buttons(bench))
    assert colours["Receive"][0] != WHITE and colours["Receive"][1] == WHITE
    assert colours["Reject"][0] != WHITE and colours["Reject"][1] == WHITE
    assert colours["Receive"][0] != colours["Reject"][0]  # primary and danger differ
    card_fields = bench.eval_on_selector_all(
        "#card-S-200002 input:not([type=hidden]), #card-S-200002 select", FIELDS
    )
    assert {f[0] for f in card_fields} == {"condition", "reason"}
    assert_tablet_sized(card_fields)

    bench.goto(f"{live_server.url}/inbox/")
    colours = dict((word, bg) for word, bg, _ in buttons(bench))
    assert colours["Match"] != WHITE and colours["Discard"] != WHITE
    assert colours["Match"] != colours["Discard"]
    assert_tablet_sized(fields(bench))

    bench.goto(f"{live_server.url}/batches/")
    colours = dict((word, bg) for word, bg, _ in buttons(bench))
    assert colours["Enter"] != WHITE  # Enter the result by hand
    found = fields(bench)
    assert_tablet_sized(found)
    value = next(f for f in found if f[0] == "value")
    assert (value[1], value[2]) == ("text", "decimal")  # a tablet shows its number keys
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    bench.screenshot(path=SCREENSHOTS / "batch-board-tablet.png", full_page=True)
