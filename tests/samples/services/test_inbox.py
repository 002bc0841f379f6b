"""The unmatched inbox: an unmatched result is matched to its sample or discarded, each with a
reason; the one who matched it counts as having entered it."""

from __future__ import annotations

import pytest

from samples.models import Result
from tests.cast import PASSWORD


def test_a_technician_matches_an_entry_to_its_sample_with_a_reason(lab, misread, signed_in):
    client = signed_in(lab.technician)
    assert "Unknown barcode S-000691" in client.get("/inbox/").content.decode()
    refused = client.post(
        f"/inbox/{misread.pk}/",
        {"action": "match", "barcode": "S-000961", "reason": ""},
        follow=True,
    )
    assert "Say why" in refused.content.decode() and not Result.objects.exists()
    client.post(
        f"/inbox/{misread.pk}/",
        {"action": "match", "barcode": "S-000961", "reason": "barcode misread"},
    )
    lab.env.run_until_idle()
    result = Result.objects.get()
    assert result.sample.barcode == "S-000961" and result.instrument == lab.instrument
    assert result.entered_by == lab.technician and "barcode misread" in result.entry_reason
    misread.refresh_from_db()
    assert misread.resolution == "matched" and misread.result == result
    assert lab.state("S-000961") == "resulted"
    assert "The inbox is empty" in client.get("/inbox/").content.decode()


def test_discarding_needs_a_reason_and_keeps_the_entry_on_record(lab, misread, signed_in):
    client = signed_in(lab.technician)
    client.post(f"/inbox/{misread.pk}/", {"action": "discard", "reason": " "})
    misread.refresh_from_db()
    assert misread.resolved_at is None
    client.post(f"/inbox/{misread.pk}/", {"action": "discard", "reason": "calibration run"})
    misread.refresh_from_db()
    assert misread.resolution == "discarded" and misread.resolution_reason == "calibration run"
    again = client.post(f"/inbox/{misread.pk}/", {"action": "discard", "reason": "x"}, follow=True)
    assert "already discarded" in again.content.decode()


def test_reviewers_read_the_inbox_but_cannot_resolve(lab, misread, signed_in):
    client = signed_in(lab.reviewer)
    assert client.get("/inbox/").status_code == 200
    response = client.post(f"/inbox/{misread.pk}/", {"action": "discard", "reason": "x"})
    assert response.status_code == 403
    misread.refresh_from_db()
    assert misread.resolved_at is None


def test_whoever_matched_a_result_may_not_verify_it(lab, misread, make_user, signed_in):
    from samples import services
    from samples.errors import LabError
    from samples.roles import Role

    both = make_user("bo", Role.TECHNICIAN, Role.REVIEWER)
    from samples.services.intake import unmatched_match

    unmatched_match(user=both, entry_id=misread.pk, barcode="S-000961", reason="misread")
    lab.env.run_until_idle()
    with pytest.raises(LabError, match="four eyes"):
        services.sample_verify(user=both, barcode="S-000961", password=PASSWORD)
