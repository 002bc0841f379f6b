"""Registering samples: one at a time with a form, or many from a CSV file."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from samples import services
from samples.errors import LabError
from samples.forms import ImportForm, SampleForm
from samples.models import JobKind
from samples.roles import Role, role_required
from samples.services.imports import COLUMNS, MAX_ROWS

MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@role_required(Role.TECHNICIAN)
def sample_new(request: HttpRequest) -> HttpResponse:
    form = SampleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:  # the form's fields are the service's arguments
            sample = services.sample_register(user=request.user, **form.cleaned_data)
        except LabError as refusal:
            form.add_error(refusal.field if refusal.field in form.fields else None, refusal.message)
        else:
            messages.success(request, f"{sample.barcode} registered.")
            return redirect("samples:sample_detail", barcode=sample.barcode)
    status = 400 if request.method == "POST" else 200
    return render(request, "samples/sample_new.html", {"form": form}, status=status)


@role_required(Role.TECHNICIAN)
def sample_import(request: HttpRequest) -> HttpResponse:
    """Check the file at once (size, text, columns, rows); the workers register its rows."""
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > MAX_UPLOAD_BYTES:
                raise LabError("The file is larger than 2 MB: split it.", field="file")
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise LabError(
                    "The file is not UTF-8 text: save it as CSV UTF-8.", field="file"
                ) from None
            job = services.job_request(
                user=request.user, kind=JobKind.IMPORT, upload=text, name=upload.name
            )
        except LabError as refusal:
            form.add_error("file", refusal.message)
        else:
            return redirect("samples:job_detail", job_id=job.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "columns": COLUMNS, "max_rows": MAX_ROWS}
    return render(request, "samples/sample_import.html", context, status=status)
