"""A refused form comes back as it was typed: on the batch board (a result by hand) and in the
unmatched inbox (match or discard), the value, sample and reason are still in their fields,
next to the reason for the refusal, so nothing has to be typed again."""

from __future__ import annotations

import re

from samples.models import Result


def field_value(page: str, form_action: str, name: str) -> str | None:
    """The value a field of the form posting to ``form_action`` holds."""
    form = re.search(rf'<form[^>]*action="{re.escape(form_action)}"[^>]*>(.*?)</form>', page, re.S)
    assert form is not None, form_action
    field = re.search(rf'<input[^>]*name="{name}"[^>]*>', form.group(1))
    assert field is not None, name
    value = re.search(r'value="([^"]*)"', field.group(0))
    return value.group(1) if value else None


def test_a_refused_result_by_hand_keeps_what_was_typed(lab, signed_in):
    lab.register("S-000881")
    lab.receive("S-000881")
    lab.to_batch("S-000881")
    lab.close_batches()
    batch = lab.start_run()
    client = signed_in(lab.technician)
    form = {"barcode": "S-000881", "assay": "GLU", "value": "abc", "reason": "analyser down"}
    response = client.post(f"/batches/{batch.pk}/result/", form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "&#x27;abc&#x27; is not a number." in page
    action = f"/batches/{batch.pk}/result/"
    assert field_value(page, action, "reason") == "analyser down"
    assert field_value(page, action, "value") == "abc"
    assert "<option selected>S-000881</option>" in page
    assert not Result.objects.exists()


def test_a_refused_match_keeps_the_sample_and_reason_typed(lab, misread, signed_in):
    client = signed_in(lab.technician)
    form = {"action": "match", "barcode": "S-000999", "reason": "barcode misread by the reader"}
    response = client.post(f"/inbox/{misread.pk}/", form)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Unknown barcode S-000999" in page
    action = f"/inbox/{misread.pk}/"
    assert field_value(page, action, "barcode") == "S-000999"
    assert field_value(page, action, "reason") == "barcode misread by the reader"
    misread.refresh_from_db()
    assert misread.resolved_at is None


def test_a_refused_discard_says_why_in_its_entry(lab, misread, signed_in):
    client = signed_in(lab.technician)
    response = client.post(f"/inbox/{misread.pk}/", {"action": "discard", "reason": "  "})
    page = response.content.decode()
    assert response.status_code == 400
    section = page[page.index(f'id="inbox-{misread.pk}"') :]
    assert "A discarded result needs a reason." in section
    misread.refresh_from_db()
    assert misread.resolved_at is None
