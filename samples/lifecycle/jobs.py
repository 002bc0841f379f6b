"""A job (``samples.services.jobs``) as a durable workflow: plan it, do its parts one step
each, finish it. A worker lost mid-part is replaced and the part done again (each part is
written to be done twice without harm); a part that fails on every attempt fails the job,
with the reason, for the person who asked.

The steps' timeout is ``JOB_STEP_TIMEOUT_SECONDS``: an attempt running longer fails and is
tried again, and a worker lost mid-part is noticed that much (plus five seconds) later.
"""

from __future__ import annotations

from django.conf import settings

from samples.lifecycle.names import JOB_WORKFLOW
from samples.services import jobs
from workflows.api import Context, StepFailed, step, workflow

TIMEOUT = settings.JOB_STEP_TIMEOUT_SECONDS


@step("jobs.plan", timeout=TIMEOUT)
def plan(job_id: int) -> int:
    return jobs.job_plan(job_id=job_id)


@step("jobs.part", timeout=TIMEOUT)
def part(job_id: int, number: int) -> None:
    jobs.job_do_part(job_id=job_id, part=number)


@step("jobs.finish", timeout=TIMEOUT)
def finish(job_id: int) -> str:
    return jobs.job_finish(job_id=job_id)


@step("jobs.fail")
def fail(job_id: int, error: str) -> None:
    jobs.job_fail(job_id=job_id, error=error)


@workflow(JOB_WORKFLOW, version=1)
async def background_job(ctx: Context, job_id: int) -> str:
    try:
        parts = await ctx.step(plan, job_id)
        for number in range(parts):
            await ctx.step(part, job_id, number)
        return await ctx.step(finish, job_id)
    except StepFailed as failure:
        await ctx.step(fail, job_id, f"{failure.error_type}: {failure.message}")
        return "failed"
