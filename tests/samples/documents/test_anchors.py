"""An anchor of the audit trail is a new signed file each time, holding every chain's head,
that anyone can check with the public key kept beside it; its key is made on first use only
where the embedded default allows it; the audit page's check and a stale anchor say so."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.core.management import CommandError, call_command
from django.utils import timezone

from samples.documents.anchors import PUBLIC_KEY_NAME, SIGNED_PREFIX
from samples.models import AssayEvent
from samples.services.anchors import anchor_make, anchor_verify
from samples.services.jobs import CHECK_PARTS, job_do_part, job_finish, job_plan, job_request
from workflows.models import HistoryEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(lab, glucose):
    lab.register("S-000001")
    lab.receive("S-000001")
    glucose.reference_high = Decimal("6.0")
    glucose.save()
    return glucose


def test_an_anchor_holds_every_chain_head_and_anyone_can_check_it_with_the_public_key(trail):
    path = anchor_make()
    lines = path.read_bytes().splitlines(keepends=True)
    header, heads, trailer = json.loads(lines[0]), lines[1:-1], json.loads(lines[-1])
    assert header["format"] == 1 and header["made_at"].endswith("Z")
    records = [json.loads(line) for line in heads]
    history = {r["id"]: r for r in records if r["chain"] == "history"}
    for run_id in HistoryEvent.objects.values_list("run_id", flat=True).distinct():
        newest = HistoryEvent.objects.filter(run_id=run_id).latest("seq")
        assert history[str(run_id)] == {
            "chain": "history",
            "id": str(run_id),
            "last": newest.seq,
            "row": newest.pk,
            "hash": newest.hash,
            "events": HistoryEvent.objects.filter(run_id=run_id).count(),
        }
    events = AssayEvent.objects.filter(pgh_obj=trail).order_by("pgh_id")
    [assay] = [r for r in records if r["chain"] == "samples_assayevent"]
    assert (assay["id"], assay["row"], assay["hash"], assay["events"]) == (
        trail.pk,
        events.last().pgh_id,
        events.last().pgh_hash,
        events.count(),
    )
    assert trailer["chains"] == len(records)
    assert trailer["events"] == sum(r["events"] for r in records)
    # An inspector's own check, with nothing of LabTrack's: the digest, then the signature.
    digest = hashlib.sha256(b"".join(lines[:-1])).hexdigest()
    assert trailer["sha256"] == digest
    public = load_pem_public_key((path.parent / PUBLIC_KEY_NAME).read_bytes())
    public.verify(base64.b64decode(trailer["signature"]), SIGNED_PREFIX + digest.encode())


def test_each_anchor_is_a_new_file_and_the_key_is_made_once_for_its_owner_only(glucose, settings):
    first, second = anchor_make(), anchor_make()
    assert first != second and first.exists() and second.exists()
    assert sorted(p.name for p in first.parent.iterdir()) == sorted(
        [first.name, second.name, PUBLIC_KEY_NAME]
    )  # nothing half written left behind
    key = settings.AUDIT_ANCHOR_KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.parent != first.parent  # the private key is not kept with the anchors
    assert anchor_verify().intact


def test_a_configured_key_that_is_missing_is_an_error_and_no_anchor_is_written(
    glucose, settings, tmp_path
):
    settings.AUDIT_ANCHOR_KEY_FILE = tmp_path / "secrets" / "anchor.pem"
    settings.AUDIT_ANCHOR_KEY_CREATE = False
    with pytest.raises(CommandError, match=r"no anchor signing key at .*anchor\.pem"):
        call_command("audit", "anchor")
    assert not settings.AUDIT_ANCHOR_DIR.exists()
    assert not settings.AUDIT_ANCHOR_KEY_FILE.exists()


def test_an_anchor_older_than_twice_the_interval_is_a_finding(glucose, settings):
    settings.AUDIT_ANCHOR_MINUTES = 60
    path = anchor_make()
    with time_machine.travel(timezone.now() + timedelta(minutes=129), tick=False):
        assert anchor_verify().intact
    with time_machine.travel(timezone.now() + timedelta(minutes=131), tick=False):
        [finding] = anchor_verify().findings
    assert finding.where == "audit anchors"
    assert finding.problem.startswith(f"the latest anchor ({path.name}) is from ")
    assert finding.problem.endswith("anchors are not being made, or the newer ones were removed")


def test_the_audit_pages_check_compares_with_the_latest_anchor_in_a_part_of_its_own(
    glucose, compliance_officer
):
    assert CHECK_PARTS[-1] == ("anchor", "latest")
    anchor_make().unlink()  # every anchor gone, its public key left
    job = job_request(user=compliance_officer, kind="verify")
    assert job_plan(job_id=job.pk) == len(CHECK_PARTS)
    for part in range(len(CHECK_PARTS)):
        job_do_part(job_id=job.pk, part=part)
    job_finish(job_id=job.pk)
    job.refresh_from_db()
    assert job.summary["intact"] is False
    [finding] = job.summary["findings"]
    assert finding["where"] == "audit anchors"
    assert finding["problem"].startswith("no anchor is left in ")


@pytest.mark.parametrize(
    "head",
    [
        {"chain": "history", "id": "1; DROP TABLE x", "last": 1, "hash": "00"},
        {"chain": "history", "id": "0" * 32, "last": 2**31, "hash": "a" * 64},
        {"chain": "samples_assayevent", "id": True, "last": 1, "hash": "a" * 64},
        {"chain": "pg_authid", "id": 1, "last": 1, "hash": "a" * 64},
    ],
)
def test_an_anchor_holding_a_malformed_head_is_a_finding_not_an_error(trail, head):
    path = anchor_make()
    lines = path.read_bytes().splitlines(keepends=True)
    lines.insert(1, json.dumps(head).encode() + b"\n")
    path.write_bytes(b"".join(lines))
    [finding] = anchor_verify().findings
    assert finding.where == "audit anchors"
    assert finding.problem.startswith(
        f"the anchor {path.name} cannot be trusted: it holds a head that is not one: "
    )


def test_the_task_beat_runs_writes_an_anchor_the_nightly_check_compares_with(glucose, settings):
    from samples.models import ChainCheck
    from samples.tasks import audit_anchor, audit_check_nightly

    assert settings.CELERY_BEAT_SCHEDULE["audit-anchor"]["task"] == audit_anchor.name
    path = Path(audit_anchor.run())
    assert path.parent == settings.AUDIT_ANCHOR_DIR and path.is_file()
    assert audit_check_nightly.run() is True
    path.unlink()
    assert audit_check_nightly.run() is False
    assert ChainCheck.objects.latest("pk").findings[0]["where"] == "audit anchors"
