"""Background jobs for the person who asked for them: the list, a job's page with its progress
(refreshed while it runs), and what it made: the per-line report of an import, the outcome of a
check of the chains, the file of an export with its manifest.

A job is shown only to the person who asked for it; anyone else gets 404.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from samples.documents.audit_export import safe_cell
from samples.models import Job, JobFilePart, JobKind
from samples.roles import Role, role_required
from samples.views.requests import HtmxHttpRequest

LIST_LENGTH = 50
PEOPLE = (Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE, Role.ADMIN)


def own_job(request: HttpRequest, job_id: int) -> Job:
    job = Job.objects.filter(pk=job_id, requested_by_id=request.user.pk).first()
    if job is None:
        raise Http404("No job of yours has this number.")
    return job


@role_required(*PEOPLE)
def job_list(request: HttpRequest) -> HttpResponse:
    jobs = Job.objects.filter(requested_by_id=request.user.pk).defer("upload", "summary")
    return render(request, "samples/jobs.html", {"jobs": jobs[:LIST_LENGTH]})


@role_required(*PEOPLE)
def job_detail(request: HtmxHttpRequest, job_id: int) -> HttpResponse:
    job = own_job(request, job_id)
    context = {"job": job, **_outcome(job)}
    if request.htmx:
        return render(request, "samples/job.html#job-progress", context)
    return render(request, "samples/job.html", context)


@role_required(*PEOPLE)
def job_file(request: HttpRequest, job_id: int) -> HttpResponseBase:
    """The file the job made, streamed a stored piece at a time."""
    job = own_job(request, job_id)
    if not job.file_name:
        raise Http404("This job has made no file (yet).")
    response = StreamingHttpResponse(_pieces(job), content_type=job.file_type)
    response["Content-Length"] = str(job.file_size)
    response["Content-Disposition"] = f'attachment; filename="{job.file_name}"'
    return response


@role_required(*PEOPLE)
def job_report(request: HttpRequest, job_id: int) -> HttpResponse:
    """An import's outcome per line, as CSV: line, barcode registered, or why it was refused."""
    job = own_job(request, job_id)
    if job.kind != JobKind.IMPORT or not job.finished:
        raise Http404("Only a finished import has a report.")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "barcode", "refused because"])
    for line, barcode, error in job.rows.values_list("line", "barcode", "error"):
        writer.writerow([line, barcode, safe_cell(error)])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-report.csv"'
    return response


def _pieces(job: Job) -> Iterator[bytes]:
    seqs = JobFilePart.objects.filter(job=job).values_list("seq", flat=True)
    for seq in list(seqs):
        yield bytes(JobFilePart.objects.get(job=job, seq=seq).data)


def _outcome(job: Job) -> dict[str, object]:
    if job.kind != JobKind.IMPORT or not job.finished:
        return {}
    return {
        "refused": job.rows.exclude(error="").values_list("line", "error"),
        "registered": job.rows.filter(error="").values_list("barcode", flat=True),
    }
