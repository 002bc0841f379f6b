"""Registering many samples from a CSV file: each valid row is registered (all or nothing per
row), each invalid row is reported with its line number and the reason; nothing is dropped
silently."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from samples.errors import LabError
from samples.models import Priority
from samples.roles import Role
from samples.services.specimens import require_role, sample_register

COLUMNS = ["barcode", "specimen_type", "subject_ref", "collected_at", "priority", "assays"]
MAX_ROWS = 5000


@dataclass
class ImportReport:
    registered: list[str] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def samples_import_csv(*, user: Any, text: str) -> ImportReport:
    """Register the samples of a CSV text with the header ``COLUMNS`` (``priority`` may be
    empty; ``assays`` holds codes separated by spaces or semicolons)."""
    require_role(user, Role.TECHNICIAN)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise LabError(
            f"The file needs the columns {', '.join(COLUMNS)}; missing: {', '.join(missing)}.",
            field="file",
        )
    report = ImportReport()
    for number, row in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            report.errors.append((number, f"not read: a file holds at most {MAX_ROWS} rows"))
            break
        try:
            sample = sample_register(
                user=user,
                barcode=row["barcode"] or "",
                specimen_type=(row["specimen_type"] or "").strip().lower(),
                subject_ref=row["subject_ref"] or "",
                collected_at=_when(row["collected_at"] or ""),
                priority=(row["priority"] or "").strip().lower() or Priority.ROUTINE,
                assays=(row["assays"] or "").replace(";", " ").split(),
            )
        except LabError as error:
            report.errors.append((number, error.message))
        else:
            report.registered.append(sample.barcode)
    return report


def _when(text: str) -> datetime:
    """An ISO 8601 time; without a zone it is the lab's local time."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LabError(
            f"{text!r} is not a time like 2026-11-25T08:30.", field="collected_at"
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
