"""Idle sign-out in a real browser (Debian's Chromium driven by Playwright), against the live
server with an idle limit of a few seconds (COMPLIANCE.md C14).

The page is a sample's, whose card polls the server every two seconds for as long as the sample
is not final. Left alone, the screen signs itself out (by POST) while the polls go on; without
the idle script, the server ends the session all the same, polls or not; and a person who keeps
pressing keys stays signed in well past the limit.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from samples import services
from tests.e2e.pages import WAIT_MS, sign_in
from tests.samples.lab import make_assay
from tests.workers import redis_client, worker_broker_url

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LIMIT = 8  # seconds; the idle script signs out 2 s before the server would
BARCODE = "S-100002"
MESSAGE = f"Signed out after {LIMIT} seconds without activity."


@pytest.fixture
def scene(technician, settings):
    """The limit and a sample whose card polls, made before the browser starts."""
    settings.IDLE_LOGOUT_SECONDS = LIMIT
    make_assay()
    services.sample_register(
        user=technician,
        barcode=BARCODE,
        specimen_type="serum",
        subject_ref="SUBJ-7",
        collected_at=timezone.now() - timedelta(hours=1),
        assays=["GLU"],
    )
    yield technician
    redis_client(worker_broker_url()).flushdb()  # the workflow start no worker picked up


class Traffic:
    """What the page sent: its polls, its idle sign-outs and its reports of activity."""

    def __init__(self, page) -> None:
        self.polls = 0
        self.sign_outs: list[str] = []
        self.reports = 0
        page.on("request", self.seen)

    def seen(self, request) -> None:
        path = urlsplit(request.url).path
        if request.headers.get("labtrack-poll") == "1" and request.method == "GET":
            self.polls += 1
        elif request.method == "POST" and path == "/accounts/logout/":
            self.sign_outs.append(request.post_data or "")
        elif request.method == "POST" and path == "/accounts/activity/":
            self.reports += 1


def sample_page(browser, live_server, user, *, idle_script: bool = True):
    page = sign_in(browser, live_server, user.username)
    if not idle_script:
        page.route("**/js/idle*.js", lambda route: route.abort())
    traffic = Traffic(page)
    page.goto(f"{live_server.url}/samples/{BARCODE}/")
    page.locator(f"#card-{BARCODE}").wait_for()
    return page, traffic


def assert_signed_out_on_the_sign_in_page(page, live_server) -> None:
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/samples/{BARCODE}/")
    page.locator(".flash", has_text=MESSAGE).wait_for()
    page.goto(f"{live_server.url}/samples/{BARCODE}/")
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/samples/{BARCODE}/")
    assert page.locator("#id_username").is_visible()


def test_an_unattended_screen_signs_out_while_its_card_keeps_polling(scene, live_server, browser):
    page, traffic = sample_page(browser, live_server, scene)
    page.wait_for_url("**/accounts/login/**", timeout=WAIT_MS)
    assert traffic.polls >= 2  # the card went on polling until the end
    assert len(traffic.sign_outs) == 1
    assert "reason=idle" in traffic.sign_outs[0]
    assert traffic.reports == 0  # nobody touched the screen
    assert_signed_out_on_the_sign_in_page(page, live_server)


def test_polls_alone_do_not_keep_the_session_alive(scene, live_server, browser):
    """Without the idle script, only the server can end the session: the next poll after the
    limit is sent to the sign-in page."""
    page, traffic = sample_page(browser, live_server, scene, idle_script=False)
    page.wait_for_url("**/accounts/login/**", timeout=WAIT_MS)
    assert traffic.polls >= LIMIT // 2  # every one served before the end, none extended it
    assert traffic.sign_outs == []
    assert_signed_out_on_the_sign_in_page(page, live_server)


def test_a_person_pressing_keys_stays_signed_in_past_the_limit(scene, live_server, browser):
    page, traffic = sample_page(browser, live_server, scene)
    for _ in range(LIMIT * 6):  # three times the limit, a key every half second
        page.keyboard.press("Shift")
        page.wait_for_timeout(500)
    assert page.url == f"{live_server.url}/samples/{BARCODE}/"
    assert traffic.sign_outs == []
    assert traffic.polls >= LIMIT  # polling went on throughout
    assert traffic.reports >= 2  # the key presses were reported, and kept the server's session
    page.reload()
    page.locator(f"#card-{BARCODE}").wait_for()
    assert page.url == f"{live_server.url}/samples/{BARCODE}/"
