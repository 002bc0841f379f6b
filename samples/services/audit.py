"""What is kept of the audit trail's checks and reviews: the outcome of each check of the hash
chains (``samples.selectors.chains`` checks them), and a compliance officer's review of a
selection of the trail."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from samples.errors import LabError
from samples.models import AuditReview, ChainCheck, ReviewOutcome
from samples.roles import Role
from samples.selectors.chains import AuditCheck
from samples.services.access import require_role

log = logging.getLogger(__name__)


def chain_check_record(check: AuditCheck, *, trigger: str, user: Any = None) -> ChainCheck:
    """Keep the outcome of a check; a broken chain is logged as an error, the alert that
    monitoring picks up."""
    recorded = ChainCheck.objects.create(
        checked_at=timezone.now(),
        trigger=trigger,
        checked_by=user,
        events=check.events,
        chains=check.chains,
        intact=check.intact,
        findings=[{"where": f.where, "problem": f.problem} for f in check.findings],
    )
    if not check.intact:
        first = check.findings[0]
        log.error(
            "audit trail: %d of %d hash chains are broken (check %d); first: %s: %s",
            *(len(check.findings), check.chains, recorded.pk, first.where, first.problem),
        )
    return recorded


def audit_review_record(
    *,
    user: Any,
    selection: dict[str, str],
    entries: int,
    through: Any,
    outcome: str,
    comment: str,
) -> AuditReview:
    """A compliance officer records the review of a selection of the trail (C7)."""
    require_role(user, Role.COMPLIANCE)
    if outcome not in ReviewOutcome.values:
        raise LabError("Choose the outcome of the review.", field="outcome")
    comment = (comment or "").strip()
    if outcome == ReviewOutcome.FINDINGS and not comment:
        raise LabError("Say what the findings are.", field="comment")
    return AuditReview.objects.create(
        reviewer=user,
        reviewed_at=timezone.now(),
        selection=selection,
        entries=entries,
        through=through,
        outcome=outcome,
        comment=comment,
    )
