"""The scan station at a bench scanner's speed, keyboard only, in a real browser (Debian's
Chromium driven by Playwright) at tablet size, against the live server, with a real Celery
worker moving the lifecycles on.

The scanner is a keyboard wedge: it types each barcode at 10 ms a character, then Enter. The
technician uses only the keyboard: the scan, then ``Alt+R`` to receive. After each action the
focus is back in the scan field, the message stays until the next scan (the card's 2-second
refresh included) and never contradicts the card's state, and the browser never leaves the
scan station for a page of its own.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from samples import services
from tests.e2e.pages import sign_in
from tests.samples.lab import make_assay
from tests.workers import wait_until
from workflows.api import get_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TABLET = {"width": 800, "height": 1280}
KEYSTROKE_MS = 10  # a fast keyboard-wedge scanner
TUBES = [f"T-{n:06d}" for n in range(1, 21)]
MESSAGE = "#bench-message"  # where the scan station says what an action did
BURST = [f"B-{n:06d}" for n in range(1, 6)]

# Counts the card's background refreshes, and keeps every error the page ever showed.
WATCH = """
window.cardPolls = 0;
window.errorsSeen = [];
document.addEventListener("htmx:afterSwap", function (event) {
  var config = event.detail.requestConfig;
  if (config && config.verb === "get" && /\\/card\\/$/.test(config.path)) window.cardPolls += 1;
});
new MutationObserver(function () {
  document.querySelectorAll(".flash-error").forEach(function (flash) {
    if (window.errorsSeen.indexOf(flash.textContent) < 0) window.errorsSeen.push(flash.textContent);
  });
}).observe(document, { childList: true, subtree: true });
"""


@pytest.fixture
def tubes(worker, technician):
    """Registered tubes whose lifecycles wait for reception, as on a bench at work; made before
    the browser starts (once Playwright runs its event loop in this thread, a database call here
    would open a second connection)."""
    make_assay(batch_capacity=50)
    runs = [
        services.sample_register(
            user=technician, barcode=barcode, specimen_type="serum", subject_ref=f"SUBJ-{barcode}",
            collected_at=timezone.now() - timedelta(hours=1), assays=["GLU"],
        ).run_id
        for barcode in TUBES + BURST
    ]  # fmt: skip
    wait_until(
        lambda: all("reception" in get_run(str(run), history=False).waiting_for for run in runs),
        seconds=120,
        every=0.5,
    )
    return technician


@pytest.fixture
def bench(tubes, live_server, browser, settings):
    """The scan station on a tablet, signed in as the technician, every page load recorded."""
    # A worker records a receipt within a fraction of a second; a test machine shared with other
    # work may be slower, and the answer must still come with the new state.
    settings.BENCH_ACTION_WAIT_SECONDS = 15
    page = sign_in(browser, live_server, tubes.username, viewport=TABLET, init_script=WATCH)
    page.goto(f"{live_server.url}/scan/")
    page.locator("#barcode:focus").wait_for()
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    page.loads = loads
    yield page
    page.context.close()


def scan(page, barcode: str) -> None:
    page.keyboard.type(barcode, delay=KEYSTROKE_MS)
    page.keyboard.press("Enter")


def press_alt(page, letter: str) -> None:
    """``Alt`` + a letter as a keyboard sends it, the character event included: Chromium fires
    access keys on that event, which Playwright's ``keyboard.press`` leaves out under Alt."""
    cdp = page.context.new_cdp_session(page)
    alt = {"key": "Alt", "code": "AltLeft", "windowsVirtualKeyCode": 18, "modifiers": 1}
    key = {"key": letter, "code": f"Key{letter.upper()}", "modifiers": 1,
           "windowsVirtualKeyCode": ord(letter.upper())}  # fmt: skip
    cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **alt})
    cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **key})
    typed = {"text": letter, "unmodifiedText": letter}
    cdp.send("Input.dispatchKeyEvent", {"type": "char", **typed, **key})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **key})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **alt, "modifiers": 0})
    cdp.detach()


def focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def message_and_badge(page, barcode: str) -> tuple[str, str]:
    """The message and the card's badge, read in one go (no refresh can come in between)."""
    return page.evaluate(
        """([barcode, message]) => [
            document.querySelector(message).innerText.trim(),
            document.querySelector("#card-" + barcode + " .state-badge").innerText.trim(),
        ]""",
        [barcode, MESSAGE],
    )


def assert_agree(message: str, badge: str, barcode: str) -> None:
    """A message never says more than the badge shows: "received" beside "Received" only."""
    assert barcode in message
    if f"{barcode} received" in message:
        assert badge == "Received", (message, badge)
    else:
        assert "receipt recorded" in message and badge in ("Registered", "Received"), (
            message,
            badge,
        )


def test_twenty_tubes_received_with_the_keyboard_only(bench, live_server):
    page = bench
    for barcode in TUBES:
        scan(page, barcode)
        card = page.locator(f"#card-{barcode}")
        card.locator(".state-badge", has_text="Registered").wait_for()
        press_alt(page, "r")
        assert focused_id(page) == "barcode", f"{barcode}: focus left the scan field"
        page.locator(MESSAGE, has_text=barcode).wait_for()
        message, badge = message_and_badge(page, barcode)
        assert_agree(message, badge, barcode)
        # The answer shows the state the action led to, and with it the next action.
        assert message.startswith(f"{barcode} received (acceptable)"), message
        assert card.get_by_role("button", name="Add to the open batch").is_visible()
        assert focused_id(page) == "barcode"
        # The message outlives the card's next refresh, still in agreement with it.
        polls = page.evaluate("window.cardPolls")
        page.wait_for_function("(n) => window.cardPolls > n", arg=polls)
        again, badge = message_and_badge(page, barcode)
        assert again == message
        assert_agree(again, badge, barcode)
        assert focused_id(page) == "barcode"

    assert page.evaluate("window.errorsSeen") == []
    assert page.loads == [], "the browser left the scan station"
    page.goto(f"{live_server.url}/samples/?state=received")
    listed = page.locator("table.table tbody td:first-child").all_inner_texts()
    assert sorted(listed) == TUBES


def test_the_next_tube_scanned_while_the_last_action_is_answered_loses_nothing(bench, live_server):
    """The scanner does not wait: the next barcode comes in while the receipt of the last one
    is still being answered and the card refreshes."""
    page = bench
    for barcode in TUBES:
        scan(page, barcode)
        page.locator(f"#card-{barcode} .state-badge", has_text="Registered").wait_for()
        press_alt(page, "r")
        assert focused_id(page) == "barcode", f"{barcode}: focus left the scan field"
    page.locator(MESSAGE, has_text=f"{TUBES[-1]} received").wait_for()

    assert page.evaluate("window.errorsSeen") == []
    assert page.loads == [], "the browser left the scan station"
    page.goto(f"{live_server.url}/samples/?state=received")
    page.locator("table.table tbody tr").nth(len(TUBES) - 1).wait_for()
    listed = page.locator("table.table tbody td:first-child").all_inner_texts()
    assert sorted(listed) == TUBES


def test_barcodes_scanned_back_to_back_are_each_looked_up_whole(bench):
    """Five tubes in one burst: each barcode arrives before the lookup of the one before has
    been answered; every one is looked up as scanned and the last one's card is shown."""
    page = bench
    answers: list[tuple[str, int]] = []

    def lookup_answered(response) -> None:
        if response.request.method == "POST" and response.url.endswith("/scan/"):
            answers.append((response.request.post_data or "", response.status))

    page.on("response", lookup_answered)
    page.keyboard.type("".join(f"{barcode}\n" for barcode in BURST), delay=KEYSTROKE_MS)
    page.locator(f"#card-{BURST[-1]}").wait_for()
    page.wait_for_function("() => !document.querySelector('#scan-result[aria-busy=true]')")
    looked_up = [next(b for b in BURST if b in body) for body, _ in answers]
    assert looked_up == BURST
    assert all(status == 200 for _, status in answers)
    assert page.evaluate("window.errorsSeen") == []
    assert focused_id(page) == "barcode"
    assert page.locator(".sample-card").count() == 1  # only the last tube's card is open


def test_an_action_key_on_a_card_not_yet_wired_up_stays_on_the_scan_station(bench):
    """``Alt+R`` as the card is being refreshed: the new card's form has no htmx behaviour yet
    and the browser would submit it as a page. The scan station sends it itself instead."""
    page = bench
    barcode = TUBES[0]
    scan(page, barcode)
    page.locator(f"#card-{barcode}").wait_for()
    page.evaluate(
        """(barcode) => {  // the form as it is the instant it is swapped in: plain HTML
            const form = document.querySelector("#card-" + barcode + " form[action$='/receive/']");
            form.replaceWith(form.cloneNode(true));
        }""",
        barcode,
    )
    press_alt(page, "r")
    page.locator(MESSAGE, has_text=f"{barcode} received").wait_for()
    assert page.loads == [], "the browser left the scan station"
    assert focused_id(page) == "barcode"


def test_an_action_sent_as_a_plain_form_lands_on_the_scan_station(bench, live_server):
    """Without htmx (or before it has wired the form up) the action still answers a whole page:
    the scan station with the card and the message, the focus in the scan field."""
    page = bench
    barcode = TUBES[1]
    scan(page, barcode)
    page.locator(f"#card-{barcode}").wait_for()
    with page.expect_navigation():
        page.evaluate(
            """(barcode) => HTMLFormElement.prototype.submit.call(
                document.querySelector("#card-" + barcode + " form[action$='/receive/']"))""",
            barcode,
        )
    assert page.locator("nav.site-nav").is_visible()
    page.locator(MESSAGE, has_text=barcode).wait_for()
    page.locator(f"#card-{barcode}").wait_for()
    assert focused_id(page) == "barcode"
    page.goto(f"{live_server.url}/samples/{barcode}/receive/")  # typed or followed as a link
    assert page.locator("nav.site-nav").is_visible()
    page.locator(f"#card-{barcode}").wait_for()
    assert focused_id(page) == "barcode"


def test_batch_and_reject_keys_give_the_focus_back_too(bench):
    page = bench
    received, unacceptable = TUBES[2], TUBES[3]
    scan(page, received)
    card = page.locator(f"#card-{received}")
    card.wait_for()
    press_alt(page, "r")
    card.get_by_role("button", name="Add to the open batch").wait_for()
    press_alt(page, "b")
    assert focused_id(page) == "barcode"
    page.locator(MESSAGE, has_text=f"{received} goes into the open batch.").wait_for()
    assert card.locator(".state-badge").inner_text() == "Awaiting batch"

    scan(page, unacceptable)
    page.locator(f"#card-{unacceptable}").wait_for()
    press_alt(page, "x")  # to the reason; the card does not refresh while it is being typed
    assert page.evaluate("document.activeElement.name") == "reason"
    page.keyboard.type("clotted", delay=KEYSTROKE_MS)
    page.keyboard.press("Enter")
    assert focused_id(page) == "barcode"
    page.locator(MESSAGE, has_text=f"{unacceptable} rejected: clotted.").wait_for()
    assert message_and_badge(page, unacceptable)[1] == "Rejected"
    assert page.evaluate("window.errorsSeen") == []
    assert page.loads == []
