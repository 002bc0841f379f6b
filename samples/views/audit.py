"""The audit trail page (COMPLIANCE.md C5, C6): the entries of both sources, filtered by sample,
user or instrument, event type and period, newest first a hundred at a time: by default the
lab's view (what people did and what happened to samples, without the engine's bookkeeping),
with ``?detail=all`` every entry; exports of exactly the filtered entries, every one of them
whatever the view (CSV, JSON, streamed); and a check of every hash chain.

Compliance officers read, export and check it; administrators too (they answer for the
system's configuration). Other roles get 403.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from samples.documents.audit_export import csv_export, json_export
from samples.documents.audit_pdf import PDF_MAX_ENTRIES
from samples.models import AuditReview, ChainCheck, JobKind, ReviewOutcome
from samples.roles import Role, has_role, role_required
from samples.selectors.audit import AuditFilter, Key, audit_count, audit_page, type_choices
from samples.selectors.words import BOOKKEEPING
from samples.services.audit import audit_review_record
from samples.services.jobs import job_request
from samples.views.errors import refusal_as_message
from samples.views.guards import from_labtrack_only

AUDIT_ROLES = (Role.COMPLIANCE, Role.ADMIN)
EXPORTS = {
    "csv": (csv_export, "text/csv; charset=utf-8"),
    "json": (json_export, "application/json"),
}


class AuditFilterForm(forms.Form):
    sample = forms.CharField(required=False, max_length=32, label="Sample barcode")
    user = forms.CharField(required=False, max_length=150, label="User or instrument")
    type = forms.ChoiceField(required=False, label="Event type")
    since = forms.DateField(
        required=False, label="From (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False, label="To (UTC)", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "(any)"), *type_choices()]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The period ends before it starts.")
        return data


def _chosen(request: HttpRequest) -> tuple[AuditFilterForm, AuditFilter | None]:
    """The filter from the query string, or None (and the form's errors) if it is not valid."""
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return form, None
    return form, AuditFilter(**form.cleaned_data)


DETAIL = "detail"  # ?detail=all: every entry, the engine's bookkeeping included


def _full_view(request: HttpRequest) -> bool:
    return request.GET.get(DETAIL) == "all"


def _query(request: HttpRequest, *, view: bool = False) -> str:
    """The filter's part of the query string: the same selection for pages and exports (with
    ``view``, the view too, for the pages)."""
    query = request.GET.copy()
    for name in ("before", "after", *([] if view else [DETAIL])):
        query.pop(name, None)
    return query.urlencode()


@role_required(*AUDIT_ROLES)
def audit_trail(request: HttpRequest) -> HttpResponse:
    form, chosen = _chosen(request)
    full = _full_view(request)
    context: dict[str, Any] = {
        "form": form,
        "full": full,
        "bookkeeping": BOOKKEEPING,
        "query": _query(request),
        "page_query": _query(request, view=True),
        "last_check": ChainCheck.objects.select_related("checked_by").first(),
        "reviews": AuditReview.objects.select_related("reviewer")[:5],
        "outcomes": ReviewOutcome.choices,
        "may_review": has_role(request.user, Role.COMPLIANCE),
    }
    if chosen is None:
        return render(request, "samples/audit.html", context, status=400)
    before = Key.parse(request.GET.get("before", ""))
    after = Key.parse(request.GET.get("after", ""))
    page = audit_page(chosen, before=before, after=None if before else after, lab=not full)
    context |= {"page": page, "filtered": any(chosen.as_dict().values())}
    return render(request, "samples/audit.html", context)


@from_labtrack_only
@role_required(*AUDIT_ROLES)
def audit_export(request: HttpRequest, kind: str) -> HttpResponseBase:
    """Exactly the filtered entries, oldest first, streamed, with a manifest at the end. Heavy
    (the whole trail when unfiltered), so only from LabTrack's own pages (``guards``)."""
    form, chosen = _chosen(request)
    if chosen is None:
        problems = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
        return HttpResponse(
            f"Not a valid filter: {problems}", status=400, content_type="text/plain"
        )
    write, content_type = EXPORTS[kind]
    response = StreamingHttpResponse(
        write(chosen, user=request.user.get_username()), content_type=content_type
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-trail-{stamp}.{kind}"'
    return response


@require_POST
@role_required(*AUDIT_ROLES)
def audit_export_pdf(request: HttpRequest) -> HttpResponse:
    """The filtered entries as a PDF to read (at most ``PDF_MAX_ENTRIES``), with a manifest,
    made by the workers: the answer is the job's page, where the file appears when ready."""
    form, chosen = _chosen(request)
    if chosen is None:
        problems = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in form.errors.items())
        return HttpResponse(
            f"Not a valid filter: {problems}", status=400, content_type="text/plain"
        )
    count = audit_count(chosen)
    if count > PDF_MAX_ENTRIES:
        return HttpResponse(
            f"The selection holds {count} entries; a PDF holds at most {PDF_MAX_ENTRIES}. "
            "Narrow the filter, or export it as CSV or JSON.",
            status=400,
            content_type="text/plain",
        )
    job = job_request(user=request.user, kind=JobKind.AUDIT_PDF, params=chosen.as_dict())
    return redirect("samples:job_detail", job_id=job.pk)


@require_POST
@role_required(*AUDIT_ROLES)
def audit_verify(request: HttpRequest) -> HttpResponse:
    """Check every hash chain, on the workers (it reads the whole trail); the check is kept
    (``ChainCheck``) with who asked for it. The answer is the job's page."""
    job = job_request(user=request.user, kind=JobKind.VERIFY)
    return redirect("samples:job_detail", job_id=job.pk)


def _trail_shown(request: HttpRequest) -> str:
    """The audit trail page as the person had it (filter and view)."""
    return f"{reverse('samples:audit')}?{_query(request, view=True)}"


@require_POST
@role_required(*AUDIT_ROLES)
@refusal_as_message(back=_trail_shown, text="{refusal} Nothing was recorded.")
def audit_review(request: HttpRequest) -> HttpResponse:
    """Record that the selection now shown was reviewed, with the outcome (C7)."""
    _form, chosen = _chosen(request)
    if chosen is None:
        messages.error(request, "Not a valid filter: nothing was recorded.")
        return redirect(_trail_shown(request))
    newest = audit_page(chosen, before=None, after=None).entries
    review = audit_review_record(
        user=request.user,
        selection=chosen.as_dict(),
        entries=audit_count(chosen),
        through=newest[0].at if newest else None,
        outcome=request.POST.get("outcome", ""),
        comment=request.POST.get("comment", ""),
    )
    messages.success(
        request,
        f"Review recorded: {review.entries} entries (every entry of the selection, the "
        f"engine's bookkeeping included), {review.get_outcome_display()}.",
    )
    return redirect(_trail_shown(request))
