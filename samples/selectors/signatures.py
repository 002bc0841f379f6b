"""What a signature signs and whether it still holds: a sample's current results in the
canonical form a verification binds its SHA-256 to (COMPLIANCE.md C12). Reads only."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from samples.models import Result, Sample, Signature


def current_results(sample: Sample) -> list[Result]:
    """The newest result of each ordered assay (those not superseded by a retest)."""
    return list(
        sample.results.filter(superseded_by__isnull=True, retest__isnull=True)
        .select_related("assay", "batch", "instrument", "entered_by")
        .order_by("assay__code")
    )


def signed_content(sample: Sample) -> list[dict[str, Any]]:
    """Exactly what a verification signs: the current results, in a canonical form. A number
    as ``value`` (the form signatures always had, so theirs still hold); an answer of a
    qualitative assay as ``answer``, in its stored spelling."""
    return [
        {
            "result": r.pk,
            "assay": r.assay.code,
            **({"value": str(r.value)} if r.text is None else {"answer": r.text}),
            "units": r.units,
            "interpretation": r.interpretation,
            "flags": r.flags,
        }
        for r in current_results(sample)
    ]


def content_hash(content: list[dict[str, Any]]) -> str:
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def signature_valid(sample: Sample, content_sha256: str) -> bool:
    """Whether what a signature signed is still exactly the sample's current results."""
    return content_hash(signed_content(sample)) == content_sha256


def signatures_checked(sample: Sample) -> list[tuple[Signature, bool]]:
    """The sample's signatures, each with whether it still holds."""
    current = content_hash(signed_content(sample))
    return [(s, s.content_sha256 == current) for s in sample.signatures.order_by("signed_at")]
