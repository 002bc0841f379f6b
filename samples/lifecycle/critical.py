"""A critical value's notification as a durable workflow (one run per critical result, started
by the lifecycle's version 4, ``samples.services.critical``): wait for calls (signal ``call``)
until the SLA's end; a call that reaches the person responsible closes the notification and
tells the sample's lifecycle (signal ``critical:<result_id>``), which holds the release until
then; a call that did not reach anyone leaves it open. When the SLA passes with no closing
call, the supervisors are told (a step), and again after each further SLA period while it
stays open. The timers are rows of the engine: they survive restarts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from samples.lifecycle import steps
from samples.lifecycle.names import CRITICAL_NOTIFICATION
from workflows.api import Context, SignalTimeout, workflow


@workflow(CRITICAL_NOTIFICATION, version=1)
async def critical_notification(ctx: Context, result_id: int) -> str:
    plan = await ctx.step(steps.critical_plan, result_id)
    due = datetime.fromtimestamp(plan["due"], UTC)
    every = timedelta(seconds=plan["every"])
    escalations = 0
    while True:
        try:
            call = await ctx.wait_signal("call", until=due)
        except SignalTimeout:
            escalations += 1
            await ctx.step(steps.critical_escalate, result_id, escalations, ctx.now().timestamp())
            due += every
            continue
        if call["closes"]:
            break
    late = escalations > 0  # the SLA's timer fired before the closing call came
    return str(await ctx.step(steps.critical_close, result_id, call["call_id"], late))
