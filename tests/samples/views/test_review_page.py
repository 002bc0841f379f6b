"""The review page shows each value beside its reference range and the subject's previous
result, marks critical rows in words (not by colour alone), and reads the queue in a number of
queries that does not grow with it."""

from __future__ import annotations

import re

from samples.models import Assay


def card(body: str, barcode: str) -> str:
    match = re.search(rf'<section class="card[^"]*" id="review-{barcode}".*?</section>', body, re.S)
    assert match, f"no card for {barcode}"
    return match.group(0)


def test_each_value_shows_its_reference_range_and_the_previous_result(lab, signed_in):
    lab.register("S-000901", subject_ref="SUBJ-7", collected_hours_ago=12)
    lab.receive("S-000901")
    lab.analyse("S-000901", "4.4")
    lab.verify("S-000901")
    lab.register("S-000902", subject_ref="SUBJ-7")
    lab.register("S-000903", subject_ref="SUBJ-8")
    for barcode in ("S-000902", "S-000903"):
        lab.receive(barcode)
    lab.analyse_together({"S-000902": "5.2", "S-000903": "5.0"})
    body = signed_in(lab.reviewer).get("/review/").content.decode()
    assert "Reference range" in body and "Previous result" in body
    later = card(body, "S-000902")
    assert "3.9\N{EN DASH}5.6 mmol/L" in later
    assert re.search(r"4\.4 mmol/L <span class=\"muted\">\(in range; <a [^>]*>S-000901</a>", later)
    other_subject = card(body, "S-000903")
    assert "S-000901" not in other_subject and ">none<" in other_subject


def test_a_critical_row_is_marked_in_words_and_by_its_sign(lab, signed_in):
    lab.register("S-000911")
    lab.register("S-000912")
    for barcode in ("S-000911", "S-000912"):
        lab.receive(barcode)
    lab.analyse_together({"S-000911": "1.9", "S-000912": "5.0"})
    body = signed_in(lab.reviewer).get("/review/").content.decode()
    critical = card(body, "S-000911")
    assert 'class="card review-item review-critical"' in critical
    assert "⚠ Critical result" in critical and '<tr class="critical">' in critical
    assert "⚠ CRITICAL LOW" in critical
    normal = card(body, "S-000912")
    assert "critical" not in normal.lower()


def test_the_page_reads_the_queue_in_a_bounded_number_of_queries(
    lab, signed_in, django_assert_max_num_queries
):
    Assay.objects.filter(code="GLU").update(batch_capacity=12)
    client = signed_in(lab.reviewer)

    def queue_of(barcodes):
        for barcode in barcodes:
            lab.register(barcode, subject_ref="SUBJ-1")
            lab.receive(barcode)
        lab.analyse_together(dict.fromkeys(barcodes, "5.0"))
        return client.get("/review/")

    assert queue_of(["S-000921", "S-000922"]).status_code == 200
    bound = 12
    with django_assert_max_num_queries(bound):
        page = client.get("/review/")
    assert page.content.decode().count('id="review-S-') == 2
    queue_of([f"S-00093{n}" for n in range(8)])
    with django_assert_max_num_queries(bound):
        page = client.get("/review/")
    assert page.content.decode().count('id="review-S-') == 10
