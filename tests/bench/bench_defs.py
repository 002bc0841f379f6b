"""What the benchmark's worker runs: durable workflows and their plain-Celery equivalents."""

from __future__ import annotations

from functools import cache

import redis
from celery import shared_task
from django.conf import settings

from tests.workers import redis_client
from workflows.api import step, workflow


@step("bench.noop")
def noop(i: int) -> int:
    return i


@workflow("bench.sequential")
async def sequential(ctx, steps):
    for i in range(steps):
        await ctx.step(noop, i)
    return steps


@workflow("bench.five")
async def five(ctx):
    for i in range(5):
        await ctx.step(noop, i)


@workflow("bench.history")
async def history(ctx, steps):
    for i in range(steps):
        await ctx.step(noop, i)
    await ctx.wait_signal("never")


@cache
def marker_client() -> redis.Redis:
    return redis_client(settings.CELERY_BROKER_URL)


@shared_task(name="bench.plain_noop", ignore_result=True)
def plain_noop(i: int = 0, counter: str | None = None) -> int:
    # The plain side's only way to tell the caller it finished: a Redis counter the caller polls.
    if counter is not None:
        marker_client().incr(counter)
    return i


@workflow("bench.controls")
async def controls(ctx, code):
    # A batch run's QC wait, as the QC bench needs it: one control's signal.
    return await ctx.wait_signal(f"control:{code}")
