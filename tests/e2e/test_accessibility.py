"""Every page a signed-in person reaches, checked with axe-core in a real browser (Debian's
Chromium driven by Playwright): none may have a moderate, serious or critical violation.

Each page is opened by a person of a role that reaches it, with data behind it (a sample with
its run, a scanned card, an opened event of a run); the sign-in page is checked signed out."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from samples import services
from samples.models import Batch, ControlLot, ControlResult, Destination, QcStatus
from tests.e2e.pages import sign_in
from tests.samples.lab import make_assay
from tests.samples.quality import history, make_lot
from workflows.models import Run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
FAILING = ("moderate", "serious", "critical")
TABLET = {"width": 600, "height": 960}  # a bench tablet upright: wide tables scroll

PAGES = {
    "technician": [
        "/", "/dashboard/", "/scan/", "/samples/", "/samples/A-100001/", "/samples/new/",
        "/samples/import/", "/batches/", "/inbox/", "/assays/", "/instruments/", "/jobs/",
        "/qc/", "/critical/",
    ],
    "reviewer": ["/review/", "/workflows/runs/", "/workflows/deploy/", "/outbox/"],
    "compliance": ["/users/", "/audit/"],
    "admin": ["/tokens/"],
}  # fmt: skip


@pytest.fixture
def scene(technician, reviewer, compliance_officer, administrator):
    """A sample with its run, made before the browser starts (see test_bench_flow)."""
    make_assay()
    services.sample_register(
        user=technician,
        barcode="A-100001",
        specimen_type="serum",
        subject_ref="SUBJ-1",
        collected_at=timezone.now() - timedelta(hours=1),
        assays=["GLU"],
    )
    # A result message parked for a person: the outbox shows it with its re-send form.
    Destination.objects.create(name="ward", protocol="mllp", host="127.0.0.1", port=9)
    [message_id] = services.outbox_prepare(barcode="A-100001", kind="original", prepared_by="scene")
    services.outbox_park(message_id=message_id, error="ConnectionRefusedError: refused")
    # A control lot with a history: in control, a warning and a rejection on its chart.
    instrument, _ = services.instrument_register(
        name="Cobas-1", model="cobas c 311", serial="C311-0001", assay_codes=["GLU"]
    )
    results = history(make_lot(instrument), "5.0", "5.45", "5.5", "4.9")
    ControlResult.objects.filter(pk=results[1].pk).update(rules=["1-2s"], verdict="warning")
    ControlResult.objects.filter(pk=results[2].pk).update(
        rules=["1-2s", "2-2s"], verdict="rejected"
    )
    # Its run rejected by QC: the batch's QC page shows the supervisor's decision form.
    Batch.objects.filter(pk=results[0].control.batch_id).update(qc_status=QcStatus.REJECTED)
    users = {
        "technician": technician,
        "reviewer": reviewer,
        "compliance": compliance_officer,
        "admin": administrator,
    }
    return users, str(Run.objects.order_by("created_at").first().pk)


def violations(page) -> list[str]:
    """axe-core's findings on the page as it is now, moderate and worse, one line each."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    found = page.evaluate("axe.run(document).then(r => r.violations)")
    return [
        f"{page.url}: {v['impact']} {v['id']}: {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in found
        if v["impact"] in FAILING
    ]


def test_no_page_has_a_moderate_or_worse_accessibility_violation(scene, live_server, browser):
    users, run_id = scene
    pages = {role: list(paths) for role, paths in PAGES.items()}
    pages["reviewer"].append(f"/workflows/runs/{run_id}/")
    pages["reviewer"].append(f"/qc/lots/{ControlLot.objects.get().pk}/")
    pages["reviewer"].append(f"/batches/{Batch.objects.get().pk}/qc/")
    found: list[str] = []

    signed_out = browser.new_context(viewport=TABLET).new_page()
    signed_out.goto(f"{live_server.url}/accounts/login/")
    found += violations(signed_out)
    signed_out.close()

    for role, paths in pages.items():
        page = sign_in(browser, live_server, users[role].username, viewport=TABLET)
        for path in paths:
            response = page.goto(f"{live_server.url}{path}")
            assert response.status == 200, (role, path, response.status)
            page.wait_for_load_state("networkidle")  # parts fetched beside the page are in
            found += violations(page)
        if role == "technician":  # the scan station with a card shown
            page.goto(f"{live_server.url}/scan/")
            page.fill("#barcode", "A-100001")
            page.keyboard.press("Enter")
            page.locator("#card-A-100001").wait_for()
            found += violations(page)
        if role == "reviewer":  # a run's event opened
            page.goto(f"{live_server.url}/workflows/runs/{run_id}/")
            page.locator("#run-live details summary").first.click()
            found += violations(page)
        page.close()
    assert found == [], "\n".join(found)


CONTRAST = """el => {
  const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  let back = el.parentElement;
  while (back && getComputedStyle(back).backgroundColor.endsWith(", 0)")) back = back.parentElement;
  const a = lum(rgb(getComputedStyle(el).outlineColor));
  const b = lum(rgb(back ? getComputedStyle(back).backgroundColor : "rgb(255, 255, 255)"));
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_the_focus_ring_stands_out_where_it_is_drawn(scene, live_server, browser):
    """WCAG 1.4.11: the ring drawn around the focused control, at least 3:1 against what lies
    behind it: a link on the page, a button, a field, and a link in the brand-coloured header."""
    users, _ = scene
    page = sign_in(browser, live_server, users["technician"].username, viewport=TABLET)
    ratios = {}
    for name, path, selector in [
        ("header link", "/", ".site-nav a"),
        ("page link", "/", "main .card a"),
        ("field", "/scan/", "#barcode"),
        ("button", "/scan/", ".scan-form button"),
    ]:
        page.goto(f"{live_server.url}{path}")
        page.focus(selector)
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focused from the keyboard: the ring shows
        target = page.locator(f"{selector}:focus-visible").first
        target.wait_for()
        ratios[name] = round(target.evaluate(CONTRAST), 2)
    assert all(ratio >= 3 for ratio in ratios.values()), ratios


def test_polled_parts_are_not_live_regions(scene, live_server, browser):
    """A part of a page re-rendered every few seconds is not (inside) an aria-live region: it
    would be read out at each poll. What changes is said once, in the page's stable region."""
    users, run_id = scene
    page = sign_in(browser, live_server, users["reviewer"].username, viewport=TABLET)
    page.goto(f"{live_server.url}/scan/")
    page.fill("#barcode", "A-100001")
    page.keyboard.press("Enter")
    page.locator("#card-A-100001[hx-trigger]").wait_for()
    polled_in_live = (
        "() => [...document.querySelectorAll('[hx-trigger*=every]')]"
        ".filter(el => el.closest('[aria-live], [role=status], [role=log]')).map(el => el.id)"
    )
    assert page.evaluate(polled_in_live) == []
    page.goto(f"{live_server.url}/workflows/runs/{run_id}/")
    page.locator("#run-live[hx-trigger]").wait_for()
    assert page.evaluate(polled_in_live) == []
    assert page.locator("#announcer[aria-live=polite]").count() == 1


def test_an_opened_data_panel_stays_open_while_the_run_page_polls(scene, live_server, browser):
    users, run_id = scene
    page = sign_in(browser, live_server, users["reviewer"].username, viewport=TABLET)
    page.goto(f"{live_server.url}/workflows/runs/{run_id}/")
    page.evaluate(
        "() => { window.polls = 0; document.body.addEventListener('htmx:afterSettle',"
        " e => { if (e.detail.target.id === 'run-live') window.polls += 1; }); }"
    )
    details = page.locator("#run-live details").first
    details.locator("summary").click()
    page.wait_for_function("() => window.polls >= 2")  # the part was fetched and swapped twice
    assert details.evaluate("el => el.open")
    assert page.locator("#run-live details[open]").count() == 1
