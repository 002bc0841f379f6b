"""Reports stored: the original when a sample is first released (its lifecycle), and a
corrected report at each re-release after a correction (``samples.lifecycle.corrections``).
Each is rendered once, from the results its signature released, and stored with its SHA-256;
the database refuses any change or deletion of one. A corrected report names the one it
replaces, which stays stored and served."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import transaction
from django.utils import timezone

from samples.documents.reports import Replaced, render_report
from samples.models import Report, ReportKind, Sample, Signature
from samples.selectors.signatures import current_results


def report_render(*, barcode: str, signature_id: int) -> int:
    """Render and store the sample's original report (once); returns its id."""
    sample = Sample.objects.get(barcode=barcode)
    existing = Report.objects.filter(sample=sample, number=1).first()
    if existing is not None:
        return existing.pk
    signature = Signature.objects.get(pk=signature_id, sample=sample)
    now = timezone.now()
    pdf = render_report(sample, current_results(sample), signature, at=now)
    report, _ = Report.objects.get_or_create(
        sample=sample,
        number=1,
        defaults={
            "signature": signature,
            "pdf": pdf,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "created_at": now,
        },
    )
    return report.pk


def report_render_corrected(*, barcode: str, signature_id: int) -> dict[str, Any]:
    """Render and store the corrected report that ``signature`` (a re-release after a
    correction) releases, replacing the sample's newest report; once per signature. Returns
    its id, its number and the number of the report it replaces."""
    with transaction.atomic():
        sample = Sample.objects.select_for_update().get(barcode=barcode)
        report = Report.objects.filter(signature_id=signature_id).select_related("replaces")
        stored = report.first()
        if stored is None:
            signature = Signature.objects.get(pk=signature_id, sample=sample)
            replaced = Report.objects.filter(sample=sample).order_by("-number").first()
            if replaced is None:
                raise ValueError(f"{barcode} has no report for a corrected one to replace")
            now = timezone.now()
            pdf = render_report(
                sample,
                current_results(sample),
                signature,
                number=replaced.number + 1,
                at=now,
                replaces=Replaced(replaced.number, replaced.created_at, replaced.sha256),
            )
            stored = Report.objects.create(
                sample=sample,
                number=replaced.number + 1,
                kind=ReportKind.CORRECTED,
                replaces=replaced,
                signature=signature,
                pdf=pdf,
                sha256=hashlib.sha256(pdf).hexdigest(),
                created_at=now,
            )
    assert stored.replaces is not None
    return {"report": stored.pk, "number": stored.number, "replaces": stored.replaces.number}
