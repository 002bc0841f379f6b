"""Sample labels: a printable page with the Code 128 and QR symbols, ZPL for Zebra printers,
and a PDF label sheet for a list of barcodes."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe

from samples.documents import labels
from samples.models import Sample
from samples.roles import Role, role_required
from samples.selectors import specimens
from samples.values.codes import code_clean

MAX_SHEET = 240  # ten A4 sheets of 24


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def sample_label(request: HttpRequest, barcode: str) -> HttpResponse:
    sample = _sample(barcode)
    context = {
        "sample": sample,
        "lines": labels.label_lines(sample),
        # Both SVGs are generated here from a validated barcode: safe to inline.
        "code128": mark_safe(labels.code128_svg(sample.barcode)),
        "qr": mark_safe(labels.qr_svg(sample.barcode)),
    }
    return render(request, "samples/label.html", context)


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def sample_label_zpl(request: HttpRequest, barcode: str) -> HttpResponse:
    sample = _sample(barcode)
    response = HttpResponse(labels.zpl(sample), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{sample.barcode}.zpl"'
    return response


@role_required(Role.TECHNICIAN, Role.REVIEWER, Role.COMPLIANCE)
def label_sheet(request: HttpRequest) -> HttpResponse:
    """``?barcode=S-1&barcode=S-2...``: one label each, in the order given."""
    wanted = [b for b in map(code_clean, request.GET.getlist("barcode")) if b]
    problem = ""
    if not wanted:
        problem = "Name at least one barcode (?barcode=S-000001&barcode=...)."
    elif len(wanted) > MAX_SHEET:
        problem = f"At most {MAX_SHEET} labels at a time."
    else:
        found = {s.barcode: s for s in Sample.objects.filter(barcode__in=wanted)}
        unknown = [b for b in wanted if b not in found]
        if unknown:
            problem = f"Unknown barcode(s): {', '.join(unknown[:20])}."
    if problem:
        return HttpResponse(problem, status=400, content_type="text/plain; charset=utf-8")
    pdf = labels.label_sheet_pdf([found[b] for b in wanted])
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="labtrack-labels.pdf"'
    return response


def _sample(barcode: str) -> Sample:
    sample = specimens.sample_find(barcode)
    if sample is None:
        raise Http404(f"No sample has the barcode {barcode}.")
    return sample
