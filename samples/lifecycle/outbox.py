"""Results out as workflow code: ``send_out`` sends a sample's results to every active
destination, one message after another, each retried by its step's policy (backoff) and,
after its last attempt, parked for a person: a destination that never answers holds up
nothing but its own message, and the workflow that sends goes on. A run cancelled while it
sends parks the messages not yet acknowledged.

The lifecycle (version 3) sends the original message after the report, a correction
(``samples.lifecycle.corrections``) the corrected message after the corrected report;
``results_out`` (one run per re-send) sends again a message already made (``message_ids``),
and finishes the corrected messages started by amendments before corrections were reviewed.
"""

from __future__ import annotations

from samples.lifecycle import steps
from samples.lifecycle.names import RESULTS_OUT
from workflows.api import Cancelled, Context, StepFailed, workflow


async def send_out(ctx: Context, barcode: str, kind: str, message_ids: list[int]) -> list[str]:
    """Prepare the messages (unless given) and send each; returns each one's outcome."""
    if not message_ids:
        message_ids = await ctx.step(steps.outbox_prepare, barcode, kind)
    outcomes: list[str] = []
    for message_id in message_ids:
        try:
            outcomes.append(await _send_one(ctx, message_id))
        except Cancelled:
            # The run was cancelled: the messages not yet acknowledged wait for a person.
            for left in message_ids[len(outcomes) :]:
                await ctx.step(steps.outbox_park, left, "the run sending it was cancelled")
            raise
    return outcomes


async def _send_one(ctx: Context, message_id: int) -> str:
    """Send one message (its step retried by its policy); parked after the last attempt."""
    try:
        return str(await ctx.step(steps.outbox_send, message_id))
    except StepFailed as failure:
        error = f"{failure.error_type}: {failure.message}"
        return str(await ctx.step(steps.outbox_park, message_id, error))


@workflow(RESULTS_OUT, version=1)
async def results_out(ctx: Context, barcode: str, kind: str, message_ids: list[int]) -> str:
    outcomes = await send_out(ctx, barcode, kind, message_ids)
    return ", ".join(outcomes) or "no active destination"
