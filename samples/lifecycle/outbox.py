"""Results out as workflow code: ``send_out`` sends a sample's results to every active
destination, one message after another, each retried by its step's policy (backoff) and,
after its last attempt, parked for a person: a destination that never answers holds up
nothing but its own message, and the workflow that sends goes on.

The lifecycle (version 3) sends the original message after the report; ``results_out`` (one
run per corrected message or re-send) sends a corrected message, or again a message already
made (``message_ids``).
"""

from __future__ import annotations

from samples.lifecycle import steps
from samples.lifecycle.names import RESULTS_OUT
from workflows.api import Context, StepFailed, workflow


async def send_out(ctx: Context, barcode: str, kind: str, message_ids: list[int]) -> list[str]:
    """Prepare the messages (unless given) and send each; returns each one's outcome."""
    if not message_ids:
        message_ids = await ctx.step(steps.outbox_prepare, barcode, kind)
    outcomes = []
    for message_id in message_ids:
        try:
            outcomes.append(await ctx.step(steps.outbox_send, message_id))
        except StepFailed as failure:
            error = f"{failure.error_type}: {failure.message}"
            outcomes.append(await ctx.step(steps.outbox_park, message_id, error))
    return outcomes


@workflow(RESULTS_OUT, version=1)
async def results_out(ctx: Context, barcode: str, kind: str, message_ids: list[int]) -> str:
    outcomes = await send_out(ctx, barcode, kind, message_ids)
    return ", ".join(outcomes) or "no active destination"
