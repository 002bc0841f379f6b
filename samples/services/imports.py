"""Registering many samples from a CSV file (separated by commas, semicolons or tabs, found
from its header line), a row at a time: each valid row is registered (all or nothing per row),
each invalid one is refused with the reason. The file is read and the outcome of each line kept
by an import job (``samples.services.jobs``): nothing is dropped silently."""

from __future__ import annotations

from typing import Any

from samples.models import Priority
from samples.roles import Role
from samples.services.access import require_role
from samples.services.specimens import sample_register
from samples.values import bounds

COLUMNS = ["barcode", "specimen_type", "subject_ref", "collected_at", "priority", "assays"]
MAX_ROWS = 5000
DELIMITERS = (",", ";", "\t")  # as spreadsheets save CSV: by default, in many locales, as text


def header_delimiter(text: str) -> str:
    """The separator of a CSV text, read from its header line: of comma, semicolon and tab,
    the one found most often outside double quotes (a comma on a tie, or when none is)."""
    header = text.split("\n", 1)[0]
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for character in header:
        if character == '"':
            quoted = not quoted
        elif not quoted and character in counts:
            counts[character] += 1
    return max(DELIMITERS, key=lambda delimiter: counts[delimiter])


def import_row(user: Any, row: dict[str, str | None]) -> str:
    """Register the sample of one CSV row (``COLUMNS``; ``priority`` may be empty, ``assays``
    holds codes separated by spaces or semicolons); its barcode, or ``LabError`` saying why."""
    require_role(user, Role.TECHNICIAN)
    sample = sample_register(
        user=user,
        barcode=row["barcode"] or "",
        specimen_type=(row["specimen_type"] or "").strip().lower(),
        subject_ref=row["subject_ref"] or "",
        collected_at=bounds.moment_text(
            row["collected_at"] or "", field="collected_at", what="the collection time"
        ),
        priority=(row["priority"] or "").strip().lower() or Priority.ROUTINE,
        assays=(row["assays"] or "").replace(";", " ").split(),
    )
    return sample.barcode
