"""The re-release of a sample whose result was corrected after release, as a durable workflow
on ``workflows.api`` only.

``sample_correction`` (one run per re-release): started by the first amendment of a released
sample's result (``samples.services.amendments``), which sends the sample back to review; later
amendments before the re-release join it. It waits for a reviewer to sign the corrected results
(signal ``review``, the same e-signature as a first release, four eyes: no one who corrected a
result signs it), stores a corrected report that replaces the newest one, and sends the
corrected results out (an ORU^R01 marked corrected, to every active destination). A run
cancelled before the signature leaves the sample cancelled; after it, the sending only stops.
"""

from __future__ import annotations

from samples.lifecycle import steps
from samples.lifecycle.names import CORRECTED, CORRECTION
from samples.lifecycle.outbox import send_out
from workflows.api import Cancelled, Context, workflow


@workflow(CORRECTION, version=1)
async def sample_correction(ctx: Context, barcode: str) -> str:
    try:
        review = await ctx.wait_signal("review")
        await ctx.step(steps.mark, barcode, "verified")
        report = await ctx.step(steps.render_corrected_report, barcode, review["signature_id"])
        await ctx.step(steps.mark, barcode, "reported")
    except Cancelled:
        await ctx.step(steps.mark, barcode, "cancelled")
        raise
    await send_out(ctx, barcode, CORRECTED, [])
    return f"corrected report {report['number']} released, replaces report {report['replaces']}"
