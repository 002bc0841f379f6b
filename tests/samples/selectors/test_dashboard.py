"""The turnaround dashboard: real samples through the real lifecycle, then known receipt and
release times, and the figures the page must show for them."""

import importlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from django.utils.text import capfirst

from samples import services
from samples.documents.charts import bar_chart
from samples.models import Assay, Result, Sample, SampleState, Signature
from samples.selectors import dashboard as figures
from tests.cast import PASSWORD

pytestmark = pytest.mark.django_db


def roomy(**fields) -> None:
    """Room for many samples in one batch, and time enough for them (the tests advance it)."""
    Assay.objects.filter(code="GLU").update(
        **{"batch_capacity": 20, "stability_hours": 240, **fields}
    )


def release(lab, *barcodes: str) -> None:
    """Register, receive, analyse (one batch) and verify each sample."""
    for barcode in barcodes:
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    lab.start_run()
    for barcode in barcodes:
        lab.post(barcode, "5.0")
        lab.verify(barcode)
        assert lab.state(barcode) == "reported"


def set_times(barcode: str, received, released) -> None:
    Sample.objects.filter(barcode=barcode).update(received_at=received, released_at=released)
    Signature.objects.filter(sample__barcode=barcode).update(signed_at=released)


PERIOD = "/dashboard/period/"


def get(user, path: str = "/dashboard/", **headers):
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    return client.get(path, headers=headers)


def test_turnaround_median_90th_percentile_and_trend_per_day(lab, reviewer):
    roomy()
    hours = {"S-000101": 1, "S-000102": 2, "S-000103": 3, "S-000104": 4, "S-000105": 10}
    release(lab, *hours, "S-000106")
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    day_one, day_two = noon - timedelta(days=3), noon - timedelta(days=2)
    for index, (barcode, taken) in enumerate(hours.items()):
        released = day_one if index < 2 else day_two
        set_times(barcode, released - timedelta(hours=taken), released)
    # Released 40 days ago: outside the default period of 30 days.
    old = noon - timedelta(days=40)
    set_times("S-000106", old - timedelta(hours=100), old)

    per_assay, trend = figures.turnarounds(timezone.now() - timedelta(days=30))
    assert per_assay == [figures.Turnaround("GLU", 5, 3.0, 7.6)]
    assert [(p.day, p.samples, p.median_hours) for p in trend["GLU"]] == [
        (day_one.date(), 2, 1.5),
        (day_two.date(), 3, 4.0),
    ]

    response = get(reviewer, PERIOD)
    html = response.content.decode()
    assert response.status_code == 200
    turnaround = html.split('id="turnaround"')[1].split("</section>")[0]
    assert re.search(r"<td>GLU</td><td[^>]*>5</td><td[^>]*>3.0</td><td[^>]*>7.6</td>", turnaround)
    assert (
        'aria-label="Turnaround from receipt to release over the last 30 days: '
        'GLU median 3 h, 90th percentile 7.6 h"' in html
    )
    assert f'{day_one:%Y-%m-%d}</td><td class="num">2</td><td class="num">1.5' in html

    # A longer period takes in the old release too (100 h): six samples.
    wider = get(reviewer, f"{PERIOD}?days=60").content.decode()
    assert re.search(r"<td>GLU</td><td[^>]*>6</td>", wider)


def test_release_is_the_first_release_signature(lab):
    roomy()
    release(lab, "S-000111")
    sample = Sample.objects.get(barcode="S-000111")
    signature = Signature.objects.get(sample=sample)
    assert sample.released_at == signature.signed_at
    assert sample.received_at < sample.released_at


def test_samples_released_before_the_field_existed_get_their_first_signature(lab, reviewer):
    roomy()
    release(lab, "S-000121", "S-000122")
    first = Signature.objects.get(sample__barcode="S-000121")
    # A second signature a day later (as after an amendment) does not move the release.
    Signature.objects.create(
        sample=first.sample,
        signer=reviewer,
        printed_name="Second",
        meaning=first.meaning,
        signed_at=first.signed_at + timedelta(days=1),
        content=first.content,
        content_sha256="0" * 64,
    )
    Sample.objects.update(released_at=None)
    backfill = importlib.import_module("samples.migrations.0012_sample_released_at").BACKFILL
    with connection.cursor() as cursor:
        cursor.execute(backfill)
    released = dict(Sample.objects.values_list("barcode", "released_at"))
    assert released["S-000121"] == first.signed_at
    assert released["S-000122"] == Signature.objects.get(sample__barcode="S-000122").signed_at


def test_samples_per_state_counts_every_state(lab, technician):
    for barcode in ["S-000201", "S-000202", "S-000203"]:
        lab.register(barcode)
    lab.receive("S-000203")
    counts = {row.state: row.samples for row in figures.samples_per_state()}
    assert counts["registered"] == 2
    assert counts["received"] == 1
    assert counts["reported"] == 0
    assert len(counts) == len(SampleState.values) == 12  # amended: corrected after release

    html = get(technician).content.decode()
    assert "Registered 2; Received 1; Awaiting batch 0" in html


def test_at_risk_lists_samples_near_their_stability_window_or_turnaround_target(lab, reviewer):
    lab.register("S-000301", collected_hours_ago=23)  # stability (24 h) ends in an hour
    lab.register("S-000302")  # collected an hour ago, received now: safe
    lab.receive("S-000302")
    lab.register("S-000303")  # received 23 hours ago: the 24 h target is an hour away
    lab.receive("S-000303")
    Sample.objects.filter(barcode="S-000303").update(
        received_at=timezone.now() - timedelta(hours=23)
    )

    risky = {row.sample.barcode: row.reasons for row in figures.samples_at_risk()}
    assert set(risky) == {"S-000301", "S-000303"}
    assert risky["S-000301"][0].startswith("stability window ends in 1.0 h")
    assert risky["S-000303"] == ["turnaround target in 1.0 h"]

    section = get(reviewer).content.decode().split('id="at-risk"')[1].split("</section>")[0]
    assert "S-000301" in section and "S-000303" in section
    assert "S-000302" not in section


def test_retest_rate_per_assay_and_per_instrument(lab, compliance_officer):
    roomy()
    second, _token = services.instrument_register(
        name="Cobas-2", model="cobas c 311", serial="C311-0002", assay_codes=["GLU"]
    )
    lab.register("S-000401")
    lab.receive("S-000401")
    lab.analyse("S-000401", "5.0", flags=["QC_FAIL"])  # the lifecycle opens a retest
    assert lab.state("S-000401") == "retest_pending"
    lab.analyse("S-000401", "5.1")
    lab.register("S-000402")
    lab.receive("S-000402")
    lab.to_batch("S-000402")
    lab.close_batches()
    lab.start_run()
    services.result_record(barcode="S-000402", assay_code="GLU", value="5.2", instrument=second)
    for barcode in ["S-000403", "S-000404"]:
        lab.register(barcode)
        lab.receive(barcode)
        lab.to_batch(barcode)
    lab.close_batches()
    lab.start_run()
    for barcode in ["S-000403", "S-000404"]:
        services.result_record(
            barcode=barcode, assay_code="GLU", value="5.3", user=lab.technician, reason="down"
        )
    lab.env.run_until_idle()
    # Recorded 40 days ago: outside the period.
    Result.objects.filter(sample__barcode="S-000404").update(
        recorded_at=timezone.now() - timedelta(days=40)
    )

    per_assay, per_instrument = figures.retest_rates(timezone.now() - timedelta(days=30))
    assert per_assay == [figures.RetestRate("GLU", 4, 1)]
    assert per_assay[0].percent == 25.0
    assert per_instrument == [
        figures.RetestRate("Cobas-1", 2, 1),
        figures.RetestRate("Cobas-2", 1, 0),
        figures.RetestRate("entered by hand", 1, 0),
    ]

    html = get(compliance_officer, PERIOD).content.decode()
    assert (
        "Retest rate per instrument, percent of results: Cobas-1 50 %; Cobas-2 0 %; "
        "entered by hand 0 %" in html
    )
    assert re.search(r"<td>GLU</td><td[^>]*>4</td><td[^>]*>1</td><td[^>]*>25.0</td>", html)
    assert "<h3>Per instrument</h3>" in html and '<th scope="col">Instrument</th>' in html
    assert "No result was recorded" not in html


def test_oldest_waiting_first_with_what_each_waits_for(lab, administrator):
    lab.register("S-000501")  # waits at reception
    lab.register("S-000502")
    lab.receive("S-000502")  # received: waits to be sent to a batch
    lab.register("S-000503")
    lab.receive("S-000503")
    now = timezone.now()
    Sample.objects.filter(barcode="S-000502").update(received_at=now - timedelta(hours=5))
    Sample.objects.filter(barcode="S-000503").update(received_at=now - timedelta(hours=3))
    Sample.objects.filter(barcode="S-000501").update(registered_at=now - timedelta(hours=4))

    rows = figures.oldest_waiting()
    assert [row.sample.barcode for row in rows] == ["S-000502", "S-000501", "S-000503"]
    assert [row.hours for row in rows] == [5.0, 4.0, 3.0]
    assert rows[1].waiting_for.startswith("waiting for receipt at reception (window ends ")
    assert rows[0].waiting_for.startswith("waiting to be added to a batch (window ends ")
    assert rows[2].waiting_for.startswith("waiting to be added to a batch (window ends ")

    section = get(administrator).content.decode().split('id="oldest"')[1]
    assert section.index("S-000502") < section.index("S-000501") < section.index("S-000503")
    assert escape(capfirst(rows[1].waiting_for)) in section


def test_every_role_sees_the_dashboard_and_anonymous_visitors_sign_in_first(
    technician, reviewer, compliance_officer, administrator, make_user
):
    empty = get(technician, PERIOD).content.decode()  # nothing recorded yet: said so
    assert "No sample was released in the last 30 days." in empty
    assert "No result was recorded in the last 30 days." in empty
    newcomer = make_user("newcomer")
    for path in ["/dashboard/", PERIOD]:
        for user in [technician, reviewer, compliance_officer, administrator]:
            assert get(user, path).status_code == 200, (user.username, path)
        assert get(newcomer, path).status_code == 403
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={path}"


@pytest.mark.parametrize("days", ["abc", "0", "-3", "366", "1.5", "9" * 40])
@pytest.mark.parametrize("path", ["/dashboard/", PERIOD])
def test_a_bad_period_is_explained_and_the_default_shown(reviewer, days, path):
    response = get(reviewer, f"{path}?days={days}")
    assert response.status_code == 400
    html = response.content.decode()
    assert "The period must be a whole number of days from 1 to 365" in html
    assert "last 30 days" in html


def test_the_dashboard_fetches_the_period_figures_beside_the_figures_of_now(lab, reviewer):
    roomy()
    release(lab, "S-000701")
    shell = get(reviewer, "/dashboard/?days=7").content.decode()
    loader = shell.split('<div id="period"')[1].split("</div>")[0]
    assert f'hx-get="{PERIOD}?days=7" hx-trigger="load"' in loader
    assert "Loading turnaround and retest rates of the last 7 days" in loader
    assert f'<noscript><p><a href="{PERIOD}?days=7">' in loader  # without JavaScript: a link
    assert 'id="turnaround"' not in shell and 'id="states"' in shell

    section = get(reviewer, f"{PERIOD}?days=7", HX_Request="true")
    html = section.content.decode()
    assert section.status_code == 200
    assert html.lstrip().startswith('<div id="period"') and "<html" not in html
    assert re.search(r"<td>GLU</td><td[^>]*>1</td>", html.split('id="turnaround"')[1])
    assert 'id="retests"' in html and "last 7 days" in html

    page = get(reviewer, f"{PERIOD}?days=7").content.decode()  # the link's page, whole
    assert "<html" in page and 'id="turnaround"' in page and 'href="/dashboard/?days=7"' in page


def test_charts_are_inline_svg_and_nothing_is_loaded_from_elsewhere(lab, reviewer):
    roomy()
    release(lab, "S-000601")
    html = get(reviewer, "/dashboard/?days=7").content.decode()
    html += get(reviewer, f"{PERIOD}?days=7", HX_Request="true").content.decode()
    assert html.count('<svg role="img" aria-label="') >= 4  # turnaround, trend, states, retests
    for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", html):
        assert "http" not in tag, tag


def test_a_bar_chart_leaves_room_for_its_longest_category_name():
    svg = bar_chart("Retest rate", ["K", "entered by hand"], [("Retested", [1.0, 2.0])])
    anchors = [float(x) for x in re.findall(r'<text x="([\d.]+)"[^>]*text-anchor="end"', svg)]
    assert anchors and min(anchors) >= 7 * len("entered by hand")  # the name ends there
    bars = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="[\d.]+" height="12"', svg)
    assert {float(x) for x in bars} == {anchors[0] + 6}  # bars start right of the names
