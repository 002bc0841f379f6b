"""The QC page (/qc/) and a lot's Levey-Jennings chart (/qc/lots/<id>/): for technicians,
reviewers and compliance officers; lots with their latest results and violations; the chart
drawn as SVG with its points in a table, the last 100 at a time."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from samples import services
from samples.models import ControlResult
from tests.samples.quality import history, make_lot


@pytest.fixture
def lots(glucose, instrument):
    level_1 = make_lot(instrument)  # mean 5.0, SD 0.2
    level_2 = make_lot(instrument, code="QC-GLU-2", level="2", mean="15", sd="0.5")
    history(level_1, "5.0", "5.1", "4.9")
    results = history(level_2, "15.2", "16.1", "14.8")
    ControlResult.objects.filter(pk=results[1].pk).update(rules=["1-2s"], verdict="warning")
    return level_1, level_2


@pytest.mark.parametrize("role", ["technician", "reviewer", "compliance_officer"])
def test_the_qc_page_shows_each_lot_with_its_latest_results(request, lots, signed_in, role):
    response = signed_in(request.getfixturevalue(role)).get("/qc/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Quality control</h1>" in body
    assert "GLU · Glucose" in body
    level_1, level_2 = lots
    assert f'href="/qc/lots/{level_1.pk}/">QC-GLU-1</a>' in body
    assert f'href="/qc/lots/{level_2.pk}/">QC-GLU-2</a>' in body
    row = body[body.index(f'id="lot-{level_2.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "15 ± 0.5 mmol/L" in row
    assert "▲ 16.1" in row and "warning: 1-2s" in row
    assert re.search(r'<td class="num">3</td>\s*<td class="num">1</td>', row)  # results, violations
    assert ">QC</a>" in body or ">QC<" in body  # in the navigation


def test_the_qc_page_reads_in_a_fixed_number_of_queries(lots, instrument, technician, signed_in):
    client = signed_in(technician)
    client.get("/qc/")
    with CaptureQueriesContext(connection) as few:
        client.get("/qc/")
    for level in range(3, 8):
        lot = make_lot(instrument, code=f"QC-GLU-{level}", level=str(level), mean="10")
        history(lot, "10", "10.1")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/qc/").status_code == 200
    assert len(many) == len(few)


def test_a_lots_chart_marks_the_rules_broken_and_lists_its_points(lots, reviewer, signed_in):
    level_1, _ = lots
    body = signed_in(reviewer).get(f"/qc/lots/{level_1.pk}/").content.decode()
    assert "<h1>Control QC-GLU-1</h1>" in body
    assert (
        '<svg role="img" aria-label="Levey-Jennings chart of control QC-GLU-1: results 1 to' in body
    )
    assert "target mean 5, SD 0.2 mmol/L; 0 of them broke a rule." in body
    for line in ("mean 5", "+1 SD 5.2", "+2 SD 5.4", "+3 SD 5.6", "-3 SD 4.4"):
        assert line in body
    assert body.count("<circle") == 3
    assert "Results 1 to 3 of 3" in body
    points = body[body.index('id="points"') :]
    assert [
        m for m in re.findall(r'<tr class="qc-[a-z_]+"><td class="num">(\d+)</td>', points)
    ] == ["1", "2", "3"]


def test_a_rejected_result_is_drawn_with_its_symbol_and_rules(lots, signed_in, technician):
    _, level_2 = lots
    history(level_2, "16.2")  # the lot's newest: result 4
    ControlResult.objects.filter(lot=level_2, value="16.2").update(
        rules=["1-2s", "2-2s"], verdict="rejected"
    )
    body = signed_in(technician).get(f"/qc/lots/{level_2.pk}/").content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert "✖</text>" in svg and "1-2s 2-2s</text>" in svg
    assert "▲</text>" in svg and ">1-2s</text>" in svg
    assert "result 4: 16.2 mmol/L, 1-2s, 2-2s" in svg
    assert "✖ Rejected</td><td>1-2s, 2-2s</td>" in body


def test_the_chart_shows_the_last_100_results_with_pages(glucose, instrument, signed_in, reviewer):
    lot = make_lot(instrument)
    history(lot, *[str(5 + (i % 3) / 10) for i in range(150)])
    client = signed_in(reviewer)
    newest = client.get(f"/qc/lots/{lot.pk}/").content.decode()
    assert "Results 51 to 150 of 150" in newest and "page 1 of 2" in newest
    assert newest.count("<circle") == 100
    assert 'href="?page=2">Older results</a>' in newest
    older = client.get(f"/qc/lots/{lot.pk}/?page=2").content.decode()
    assert "Results 1 to 50 of 150" in older and older.count("<circle") == 50
    assert client.get(f"/qc/lots/{lot.pk}/?page=x²").status_code == 200  # the newest, as page 1


def test_a_lot_without_results_says_so(glucose, instrument, signed_in, reviewer):
    lot = make_lot(instrument)
    body = signed_in(reviewer).get(f"/qc/lots/{lot.pk}/").content.decode()
    assert "No result of this lot yet." in body


def test_an_unknown_lot_is_404(db, signed_in, reviewer):
    assert signed_in(reviewer).get("/qc/lots/999999/").status_code == 404


def test_the_administrator_may_not_open_the_qc_pages(lots, administrator, signed_in):
    client = signed_in(administrator)
    assert client.get("/qc/").status_code == 403
    assert client.get(f"/qc/lots/{lots[0].pk}/").status_code == 403


def test_no_one_signed_out_sees_them(lots, client):
    assert client.get("/qc/").status_code == 302


def test_a_recorded_result_appears_on_the_qc_page(lab, signed_in):
    from tests.samples.quality import run_with_controls

    make_lot(lab.instrument)
    run_with_controls(lab)
    services.control_record(code="QC-GLU-1", value="5.05", instrument=lab.instrument)
    body = signed_in(lab.technician).get("/qc/").content.decode()
    assert "● 5.05" in body and "in control" in body
