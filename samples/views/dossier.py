"""A sample's chain-of-custody dossier, to download as JSON or PDF."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from samples.documents.dossier import dossier, dossier_json, dossier_pdf
from samples.roles import role_required
from samples.views.bench import BENCH_ROLES, sample_or_404


@role_required(*BENCH_ROLES)
def sample_dossier(request: HttpRequest, barcode: str, kind: str) -> HttpResponse:
    sample = sample_or_404(barcode)
    content = dossier(sample)
    if kind == "json":
        response = HttpResponse(dossier_json(content), content_type="application/json")
    else:
        response = HttpResponse(dossier_pdf(content), content_type="application/pdf")
    name = f"labtrack-custody-{sample.barcode}.{kind}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
