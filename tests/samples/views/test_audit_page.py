"""The audit trail page: both sources in one list, filtered by sample, user, type and period,
said in sentences; exports of exactly the selection with a manifest; the chain check
(COMPLIANCE.md C5, C6)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta
from decimal import Decimal

import pghistory
import pytest
from django.db import connection

from samples import services
from samples.models import AssayEvent, ChainCheck
from samples.roles import Role
from samples.selectors.audit import AuditFilter, audit_count, audit_entries, audit_page
from samples.selectors.chains import AUDIT_TABLES, CONTENT_PARTS
from tests.database_roles import rewrite_around_triggers
from tests.samples.jobs import job_followed
from workflows.ops import HISTORY_SHARDS

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil")'


@pytest.fixture
def trail(lab, glucose, administrator):
    """Two samples through part of their lifecycle, an assay change by an administrator, a
    rejection with a formula-looking reason, and a sample registered three days later."""
    lab.register("S-000123")
    lab.receive("S-000123")
    lab.analyse("S-000123", "5.4")
    lab.register("S-000124")
    lab.register("S-000125")
    services.sample_reject(user=lab.technician, barcode="S-000125", reason=FORMULA)
    lab.env.run_until_idle()
    lab.env.advance_time(timedelta(days=3))
    lab.register("S-000126")
    # Last: the context holds to the end of the test's transaction, as it would to the end of
    # a request's.
    with pghistory.context(user=administrator.pk, url="/admin/samples/assay/1/change/"):
        glucose.reference_high = Decimal("6.0")
        glucose.save()
    return lab


def entries(**chosen):
    return list(audit_entries(AuditFilter(**chosen)))


def sources(found):
    return {e.source for e in found}


@pytest.mark.parametrize("role", [Role.COMPLIANCE, Role.ADMIN])
def test_compliance_officers_and_administrators_read_the_trail(make_user, signed_in, role):
    client = signed_in(make_user("reader", role, is_staff=role is Role.ADMIN))
    response = client.get("/audit/")
    assert response.status_code == 200
    assert b"Verify the chains" in response.content


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.REVIEWER, Role.INSTRUMENT])
def test_other_roles_may_not_read_or_export_the_trail(make_user, signed_in, role):
    client = signed_in(make_user("other", role))
    for path in ["/audit/", "/audit/export.csv", "/audit/export.json"]:
        assert client.get(path).status_code == 403, path
    assert client.post("/audit/verify/").status_code == 403
    assert not ChainCheck.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/audit/export.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_sample_filter_keeps_the_samples_lifecycle_and_record_changes(trail):
    found = entries(sample="s-000123")
    assert found and {e.barcode for e in found} == {"S-000123"}
    assert sources(found) == {"lifecycle", "change"}
    assert {"result.insert", "sample.update", "signal_received"} <= {e.type for e in found}
    assert len(found) < audit_count(AuditFilter())


def test_the_user_filter_finds_people_and_instruments_in_both_sources(trail):
    cobas = entries(user="cobas-1")
    assert {e.who for e in cobas} == {"instrument Cobas-1"}
    assert {e.type for e in cobas} == {"result.insert", "signal_received"}
    assert sources(cobas) == {"lifecycle", "change"}
    tess = entries(user="tess")
    assert {e.actor for e in tess} == {"tess"}
    assert {"sample.insert", "run_started", "signal_received"} <= {e.type for e in tess}
    assert [e.type for e in entries(user="alex")] == ["assay.update"]


def test_the_type_filter_takes_a_record_type_or_one_type(trail):
    assert {e.type for e in entries(type="assay")} == {"assay.insert", "assay.update"}
    assert [e.type for e in entries(type="assay.update")] == ["assay.update"]
    received = entries(type="signal_received")
    assert received and sources(received) == {"lifecycle"}
    assert {e.type for e in entries(type="role")} == {"role.add"}


def test_the_period_filter_takes_whole_utc_days(trail):
    # Written on whatever days the test runs, even across a midnight: the change records carry
    # the database's time, the lifecycle the workflow clock's.
    everything = entries()
    days = sorted({e.at.date() for e in everything})
    first_day = days[0]
    later_day = entries(sample="S-000126")[-1].at.date()
    assert later_day >= first_day + timedelta(days=3)
    first = entries(since=first_day, until=first_day)
    assert "change" in sources(first)  # the users and the assay set up before anything ran
    assert {e.at.date() for e in first} == {first_day}
    later = entries(since=later_day)
    assert sources(later) == {"lifecycle"}  # timers fired and a sample registered
    assert "S-000126" in {e.barcode for e in later}
    assert min(e.at.date() for e in later) == later_day
    each_day = [entries(since=day, until=day) for day in days]
    assert sum(len(found) for found in each_day) == len(everything)
    assert set().union(*(sources(found) for found in each_day)) == {"lifecycle", "change"}
    assert entries(until=first_day - timedelta(days=1)) == []


def test_entries_read_as_sentences(trail):
    sample = {e.what for e in entries(sample="S-000123")}
    assert "Result 5.4 mmol/L for GLU of S-000123 entered by instrument Cobas-1" in sample
    assert "Sample S-000123 received by tess (condition acceptable)" in sample
    [change] = entries(type="assay.update")
    assert change.what == "Assay GLU changed by alex: reference high 5.6 → 6.0"
    assert change.url == "/admin/samples/assay/1/change/"
    reasons = {e.what.split(":")[0]: e.reason for e in entries(sample="S-000125")}
    assert reasons["Sample S-000125 rejected by tess"] == FORMULA  # the lifecycle's event
    assert reasons["Sample S-000125 changed"] == FORMULA  # the sample's record


def test_the_page_shows_the_newest_entries_with_filters(trail, compliance_officer, signed_in):
    client = signed_in(compliance_officer)
    html = client.get("/audit/", {"user": "alex"}).content.decode()
    assert "Assay GLU changed by alex: reference high 5.6 → 6.0" in html
    assert "Cobas-1" not in html.split("<tbody>")[1]
    assert 'href="/audit/export.csv?user=alex"' in html
    html = client.get("/audit/", {"sample": "S-000123"}).content.decode()
    assert "Result 5.4 mmol/L for GLU of S-000123 entered by instrument Cobas-1" in html
    bad = client.get("/audit/", {"since": "2026-05-04", "until": "2026-05-01"})
    assert bad.status_code == 400


def test_pages_follow_each_other_without_gaps_or_repeats(trail):
    newest_first = list(reversed(entries()))
    assert len(newest_first) > 25
    seen, page = [], audit_page(AuditFilter(), size=10)
    while True:
        seen += page.entries
        if page.older is None:
            break
        page = audit_page(AuditFilter(), before=page.older, size=10)
    assert [e.key for e in seen] == [e.key for e in newest_first]
    start = len(seen) - len(page.entries)
    back = audit_page(AuditFilter(), after=page.entries[0].key, size=10)
    assert [e.key for e in back.entries] == [e.key for e in newest_first[start - 10 : start]]


def test_the_page_links_to_older_entries(trail, compliance_officer, signed_in):
    client = signed_in(compliance_officer)
    first = client.get("/audit/", {"detail": "all"})
    assert first.context["page"].older is not None
    assert len(first.context["page"].entries) == 100
    token = first.context["page"].older.token()
    assert f'href="?detail=all&amp;before={token}"' in first.content.decode()
    second = client.get("/audit/", {"detail": "all", "before": token})
    assert second.context["page"].entries[0].at <= first.context["page"].entries[-1].at
    shown = {e.key for e in first.context["page"].entries}
    assert not shown & {e.key for e in second.context["page"].entries}
    assert second.context["page"].newer is not None


def export(client, kind, **chosen):
    response = client.get(f"/audit/export.{kind}", chosen)
    assert response.status_code == 200
    assert response.streaming
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def test_the_csv_export_holds_exactly_the_selection_and_a_manifest(
    trail, compliance_officer, signed_in
):
    content = export(signed_in(compliance_officer), "csv", sample="S-000125")
    assert content.startswith("\ufeff".encode())
    body, manifest = content.rsplit(b"\r\n\r\n", 1)
    body += b"\r\n"
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    header, data = rows[0], rows[1:]
    assert header[:4] == ["time", "who", "what", "reason"]
    assert len(data) == audit_count(AuditFilter(sample="S-000125")) > 0
    assert {row[header.index("sample")] for row in data} == {"S-000125"}
    assert all(row[0].endswith("Z") and "T" in row[0] for row in data)
    assert "'" + FORMULA in [row[header.index("reason")] for row in data]
    assert not any(cell.startswith("=") for row in data for cell in row)
    facts = {row[0]: row[1] for row in csv.reader(io.StringIO(manifest.decode())) if len(row) > 1}
    assert facts["# rows"] == str(len(data))
    assert facts["# filter sample"] == "S-000125"
    assert facts["# from"] == data[0][0] and facts["# to"] == data[-1][0]
    assert facts["# exported by"] == compliance_officer.username
    assert facts["# sha256"] == hashlib.sha256(body).hexdigest()


def test_the_json_export_holds_exactly_the_selection_and_a_manifest(
    trail, compliance_officer, signed_in
):
    content = export(signed_in(compliance_officer), "json", user="cobas-1")
    document = json.loads(content)
    found = document["entries"]
    assert len(found) == audit_count(AuditFilter(user="cobas-1")) == 3
    assert {e["who"] for e in found} == {"instrument Cobas-1"}
    manifest = document["manifest"]
    assert manifest["rows"] == 3
    assert manifest["filter"]["user"] == "cobas-1"
    assert (manifest["from"], manifest["to"]) == (found[0]["time"], found[-1]["time"])
    before = content.rsplit(b',"manifest":', 1)[0]
    assert manifest["sha256"] == hashlib.sha256(before).hexdigest()
    [result] = [e for e in found if e["type"] == "result.insert"]
    assert result["data"]["value"] == "5.4000"
    assert {"field": "value", "old": None, "new": "5.4000"} in result["changes"]


def test_an_unfiltered_export_counts_every_entry_of_the_database(
    trail, compliance_officer, signed_in
):
    document = json.loads(export(signed_in(compliance_officer), "json"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM workflows_historyevent")
        (history,) = cursor.fetchone()
    changes = sum(1 for e in document["entries"] if e["type"] == "assay.update")
    assert changes == AssayEvent.objects.filter(pgh_label="update").count()
    lifecycle = sum(1 for e in document["entries"] if "." not in e["type"])
    assert lifecycle == history
    assert document["manifest"]["rows"] == audit_count(AuditFilter())


def tamper_with_the_first_assay_event():
    """As the owner of the table, around its triggers (committed: the test is transactional)."""
    first = AssayEvent.objects.earliest("pgh_id")
    rewrite_around_triggers(
        "samples_assayevent",
        "UPDATE samples_assayevent SET reference_high = 4.4 WHERE pgh_id = %s",
        first.pgh_id,
    )
    return first


@pytest.mark.django_db(transaction=True)
def test_the_verify_button_reports_intact_chains_then_a_finding_after_tampering(
    trail, lab, compliance_officer, signed_in
):
    client = signed_in(compliance_officer)
    job, page = job_followed(client, lab.env, client.post("/audit/verify/"))
    # A part per history shard, event table and kind of stored content, then the latest anchor.
    parts = len(HISTORY_SHARDS) + len(AUDIT_TABLES) + len(CONTENT_PARTS) + 1
    assert (job.kind, job.status, job.done, job.total) == ("verify", "done", parts, parts)
    assert "Intact:" in page
    first = tamper_with_the_first_assay_event()
    job, page = job_followed(client, lab.env, client.post("/audit/verify/"))
    assert "Broken: 1 of" in page
    assert f"samples_assayevent row {first.pgh_id}</strong>: its content does not match" in page
    checks = list(ChainCheck.objects.order_by("pk"))
    assert [(c.trigger, c.checked_by, c.intact) for c in checks] == [
        ("page", compliance_officer, True),
        ("page", compliance_officer, False),
    ]
    assert b"Broken: 1 of" in client.get("/audit/").content  # the last check stays shown
