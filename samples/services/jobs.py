"""Work that may outlast a request, asked for on a page and done by the workers: registering
samples from a CSV file, checking every hash chain of the audit trail and its latest anchor,
the audit trail as PDF.

A job is a durable workflow (``samples.lifecycle.jobs``): a plan, then its parts one step each,
then a finish. Each part may run twice (a worker lost mid-part), so each is written to change
nothing the second time: an import records each line's outcome in the same transaction as the sample
it registers and skips the lines already recorded; a check keeps each part's outcome under the
part's number; a file replaces its pieces in one transaction. Progress (``done`` of ``total``)
is written as the parts go, for the job's page to show.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from typing import Any

from django.db import DataError, transaction
from django.db.models import F
from django.utils import timezone

from samples.actors import actor_name
from samples.documents.audit_pdf import pdf_count, pdf_render
from samples.errors import LabError, NotAllowed
from samples.lifecycle.names import JOB_WORKFLOW
from samples.models import Job, JobFilePart, JobKind, JobRow, JobStatus
from samples.roles import Role, has_role
from samples.selectors.chains import (
    AUDIT_TABLES,
    CONTENT_PARTS,
    AuditCheck,
    Finding,
    checks_joined,
    content_verify,
    history_verify,
    table_verify,
)
from samples.services.anchors import anchor_verify
from samples.services.audit import chain_check_record
from samples.services.imports import COLUMNS, MAX_ROWS, header_delimiter, import_row
from workflows.api import start
from workflows.ops import HISTORY_SHARDS

log = logging.getLogger(__name__)

CHUNK_ROWS = 100  # import lines per part
FILE_PART_BYTES = 1024 * 1024
ROLES = {
    JobKind.IMPORT: (Role.TECHNICIAN,),
    JobKind.VERIFY: (Role.COMPLIANCE, Role.ADMIN),
    JobKind.AUDIT_PDF: (Role.COMPLIANCE, Role.ADMIN),
}
CHECK_PARTS = [
    *[("history", shard) for shard in HISTORY_SHARDS],
    *[("table", table) for table in AUDIT_TABLES],
    *[("content", part) for part in CONTENT_PARTS],
    ("anchor", "latest"),  # the database against the latest anchor, after the chains
]


def job_request(
    *, user: Any, kind: str, params: dict[str, Any] | None = None, upload: str = "", name: str = ""
) -> Job:
    """Record the job and start its workflow (sent to the workers when the caller commits)."""
    roles = ROLES[JobKind(kind)]
    if not has_role(user, *roles):
        names = " or ".join(role.label.lower() for role in roles)
        raise NotAllowed(f"Only a {names} may do this.")
    if kind == JobKind.IMPORT:
        import_rows(upload)  # a file refused whole is refused now, on the form
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            requested_by=user,
            requested_at=timezone.now(),
            params=params or {},
            upload=upload,
            upload_name=name[:255],
        )
        job.run_id = start(JOB_WORKFLOW, job.pk, key=f"job-{job.pk}", actor=actor_name(user))
        job.save(update_fields=["run_id"])
    return job


def import_rows(text: str) -> list[dict[str, str]]:
    """The rows of an import's CSV text (its separator found from its header line), or the
    reason the file is refused whole."""
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise LabError(f"Line {line} holds a NUL byte: this is not a CSV text file.", field="file")
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), delimiter=header_delimiter(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LabError(
            f"The file needs the columns {', '.join(COLUMNS)} (separated by commas, semicolons "
            f"or tabs); missing: {', '.join(missing)}.",
            field="file",
        )
    try:
        rows = list(reader)
    except csv.Error as error:
        raise LabError(f"Line {reader.line_num}: {error}.", field="file") from None
    if not rows:
        raise LabError("The file holds no rows below its header.", field="file")
    if len(rows) > MAX_ROWS:
        raise LabError(
            f"The file holds {len(rows)} rows; at most {MAX_ROWS} at a time: split it.",
            field="file",
        )
    return rows


def job_plan(*, job_id: int) -> int:
    """Mark the job running with its total; the number of its parts."""
    job = Job.objects.get(pk=job_id)
    if job.kind == JobKind.IMPORT:
        total = len(import_rows(job.upload))
        parts = -(-total // CHUNK_ROWS)
    elif job.kind == JobKind.VERIFY:
        total = parts = len(CHECK_PARTS)
    else:
        total, parts = pdf_count(job.params), 1
    Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, total=total
    )
    return parts


def job_do_part(*, job_id: int, part: int) -> None:
    job = Job.objects.get(pk=job_id)
    if job.finished:
        return
    if job.kind == JobKind.IMPORT:
        _import_part(job, part)
    elif job.kind == JobKind.VERIFY:
        _check_part(job, part)
    else:
        _pdf_part(job)


def job_finish(*, job_id: int) -> str:
    """Close the job with what it made; a second call changes nothing."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.finished:
            return str(job.status)
        if job.kind == JobKind.IMPORT:
            outcomes = job.rows.all()
            job.summary = {
                "registered": outcomes.filter(error="").count(),
                "refused": outcomes.exclude(error="").count(),
            }
        elif job.kind == JobKind.VERIFY:
            check = _check_joined(job.summary.get("parts", {}))
            recorded = chain_check_record(check, trigger="page", user=job.requested_by)
            job.summary = {
                "check": recorded.pk,
                "intact": recorded.intact,
                "events": recorded.events,
                "chains": recorded.chains,
                "findings": recorded.findings,
            }
        job.status, job.done, job.finished_at = JobStatus.DONE, job.total, timezone.now()
        job.save()
    return str(job.status)


def job_fail(*, job_id: int, error: str) -> None:
    Job.objects.filter(pk=job_id).exclude(status=JobStatus.DONE).update(
        status=JobStatus.FAILED, error=error, finished_at=timezone.now()
    )
    log.error("job %s failed: %s", job_id, error)


def _import_part(job: Job, part: int) -> None:
    rows = import_rows(job.upload)
    first = part * CHUNK_ROWS
    recorded = set(job.rows.values_list("line", flat=True))
    for index in range(first, min(first + CHUNK_ROWS, len(rows))):
        line = index + 2  # the header is line 1
        if line in recorded:
            continue  # this part ran before, up to here
        _import_line(job, line, rows[index])
    Job.objects.filter(pk=job.pk).update(done=job.rows.count())


def _import_line(job: Job, line: int, row: dict[str, Any]) -> None:
    """Register one line's sample and record its outcome in one transaction, all or nothing;
    or record why nothing of it was registered. A hostile line is refused with its reason: it
    never stops the job."""
    try:
        with transaction.atomic():
            barcode = import_row(job.requested_by, row)
            JobRow.objects.create(job=job, line=line, barcode=barcode)
        return
    except LabError as refusal:
        error = refusal.message
    except DataError as refusal:  # text PostgreSQL cannot store: said, not dropped
        error = f"not stored: {refusal}".strip()
    except (ValueError, OverflowError) as refusal:  # a value Python cannot hold: said too
        log.warning("import job %s line %s refused: %r", job.pk, line, refusal)
        error = f"not readable: {refusal}"
    JobRow.objects.create(job=job, line=line, error=error)


def _check_part(job: Job, part: int) -> None:
    what, which = CHECK_PARTS[part]
    if what == "history":
        check = history_verify(shard=which)
    elif what == "table":
        check = table_verify(which)
    elif what == "content":
        check = content_verify(which)
    else:
        check = anchor_verify()
    outcome = {
        "events": check.events,
        "chains": check.chains,
        "findings": [{"where": f.where, "problem": f.problem} for f in check.findings],
    }
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        parts = locked.summary.setdefault("parts", {})
        parts[str(part)] = outcome
        locked.done = len(parts)
        locked.save(update_fields=["summary", "done"])


def _check_joined(parts: dict[str, dict[str, Any]]) -> AuditCheck:
    missing = [str(i) for i in range(len(CHECK_PARTS)) if str(i) not in parts]
    if missing:  # the workflow finishes only after every part: a part lost is a bug, said
        raise RuntimeError(f"parts {', '.join(missing)} of the check have no outcome")
    return checks_joined(
        [
            AuditCheck(
                p["events"], p["chains"], [Finding(f["where"], f["problem"]) for f in p["findings"]]
            )
            for p in (parts[str(i)] for i in range(len(CHECK_PARTS)))
        ]
    )


def _pdf_part(job: Job) -> None:
    def progress(done: int) -> None:
        Job.objects.filter(pk=job.pk).update(done=done)

    content = pdf_render(job.params, user=job.requested_by.get_username(), progress=progress)
    stamp = job.requested_at.strftime("%Y%m%dT%H%M%SZ")
    file_store(job, content, name=f"audit-trail-{stamp}.pdf", content_type="application/pdf")


def file_store(job: Job, content: bytes, *, name: str, content_type: str) -> None:
    """Keep what a job made, replacing whatever an earlier attempt stored."""
    with transaction.atomic():
        JobFilePart.objects.filter(job=job).delete()
        JobFilePart.objects.bulk_create(
            JobFilePart(job=job, seq=seq, data=content[start : start + FILE_PART_BYTES])
            for seq, start in enumerate(range(0, len(content), FILE_PART_BYTES))
        )
        Job.objects.filter(pk=job.pk).update(
            file_name=name,
            file_type=content_type,
            file_size=len(content),
            file_sha256=hashlib.sha256(content).hexdigest(),
            done=F("total"),
        )
