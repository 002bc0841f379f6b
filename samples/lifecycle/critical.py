"""A critical value's notification as a durable workflow (one run per notification, started
by the lifecycle's version 4 or by a correction, ``samples.services.critical``): wait for calls
(signal ``call``) until the SLA's end; a call that reaches the person responsible closes the
notification and tells the sample's run (signal ``critical:<result_id>`` for the result's first
notification, which the lifecycle waits for before release; ``critical:<result_id>:<number>``
for a later one, opened by a correction of a value already called); a call that did not reach
anyone leaves it open. When the SLA passes with no closing call, the supervisors are told (a
step), and again after each further SLA period while it stays open. The timers are rows of the
engine: they survive restarts.

Version 1 names the result (a result had one notification then): its runs finish on it, its
steps finding the result's first notification. Version 2 names the notification, so that a
result may have several; the path is the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from samples.lifecycle import steps
from samples.lifecycle.names import CRITICAL_NOTIFICATION
from workflows.api import Context, SignalTimeout, workflow


@workflow(CRITICAL_NOTIFICATION, version=1)
async def critical_notification(ctx: Context, result_id: int) -> str:
    return await _notify(
        ctx, result_id, steps.critical_plan, steps.critical_escalate, steps.critical_close
    )


@workflow(CRITICAL_NOTIFICATION, version=2)
async def critical_notification_v2(ctx: Context, notification_id: int) -> str:
    return await _notify(
        ctx,
        notification_id,
        steps.notification_plan,
        steps.notification_escalate,
        steps.notification_close,
    )


async def _notify(
    ctx: Context,
    about: int,
    plan_step: Callable[..., Any],
    escalate_step: Callable[..., Any],
    close_step: Callable[..., Any],
) -> str:
    plan = await ctx.step(plan_step, about)
    due = datetime.fromtimestamp(plan["due"], UTC)
    every = timedelta(seconds=plan["every"])
    escalations = 0
    while True:
        try:
            call = await ctx.wait_signal("call", until=due)
        except SignalTimeout:
            escalations += 1
            await ctx.step(escalate_step, about, escalations, ctx.now().timestamp())
            due += every
            continue
        if call["closes"]:
            break
    late = escalations > 0  # the SLA's timer fired before the closing call came
    return str(await ctx.step(close_step, about, call["call_id"], late))
