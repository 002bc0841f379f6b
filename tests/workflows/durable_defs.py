"""Workflows and steps shared by the test process and the real workers it starts (``-I``).

Steps leave a line in a journal file each time they start and finish, so a test can tell how
many times a step *ran* apart from how many results were *recorded*.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from workflows.api import RetryPolicy, step, workflow


def journal(folder: str, line: str) -> None:
    with (Path(folder) / "journal.txt").open("a") as handle:
        handle.write(line + "\n")


@step("durable.slow", timeout=3, retry=RetryPolicy(max_attempts=3, initial_interval=0.5))
def slow(folder: str, seconds: float) -> str:
    journal(folder, "start")
    time.sleep(seconds)
    journal(folder, "end")
    return "slow done"


@step("durable.quick")
def quick(folder: str, label: str) -> str:
    journal(folder, f"quick {label}")
    return label.upper()


@workflow("durable.crash")
async def crash_flow(ctx, folder):
    first = await ctx.step(quick, folder, "before")
    middle = await ctx.step(slow, folder, 1.5)
    last = await ctx.step(quick, folder, "after")
    return [first, middle, last]


@workflow("durable.pause")
async def pause_flow(ctx, folder):
    await ctx.step(quick, folder, "one")
    payload = await ctx.wait_signal("go")
    return [payload, await ctx.step(quick, folder, "two")]


@workflow("durable.nap")
async def nap_flow(ctx, seconds):
    await ctx.sleep(seconds)
    return "rested"


@workflow("durable.collect")
async def collect_flow(ctx, count):
    return [await ctx.wait_signal("sample") for _ in range(count)]


@workflow("durable.chain")
async def chain_flow(ctx, length):
    total = 0
    for i in range(length):
        total += len(await ctx.step(quick_noop, i))
    return total


@step("durable.noop")
def quick_noop(i: int) -> str:
    return "x"


@step("durable.stuck", timeout=1, retry=RetryPolicy(max_attempts=2, initial_interval=0.2))
def stuck(folder: str) -> str:
    """Hangs on its first attempt, answers at once on the second."""
    journal(folder, "stuck attempt")
    if (Path(folder) / "journal.txt").read_text().count("stuck attempt") == 1:
        time.sleep(30)
    return "answered"


@workflow("durable.timeout")
async def timeout_flow(ctx, folder):
    return await ctx.step(stuck, folder)


@step("durable.swallows", timeout=1, retry=RetryPolicy(max_attempts=2, initial_interval=0.2))
def swallows(folder: str) -> str:
    """Catches its time limit on its first attempt and returns a value all the same."""
    journal(folder, "swallows attempt")
    if (Path(folder) / "journal.txt").read_text().count("swallows attempt") == 1:
        try:
            time.sleep(30)
        except Exception:
            return "swallowed"
    return "answered"


@workflow("durable.swallowed_timeout")
async def swallowed_timeout_flow(ctx, folder):
    return await ctx.step(swallows, folder)


@workflow("durable.dies")
async def dies_flow(ctx, folder, spared_pid):
    """Its own code (not a step) kills the process advancing it, until a file says it is fixed.
    Each entry leaves a line in the journal, written before the process dies. The test's own
    process (``spared_pid``), which replays every history once a test ends, is spared."""
    journal(folder, "entered")
    if not (Path(folder) / "fixed").exists() and os.getpid() != spared_pid:
        os._exit(1)
    return await ctx.step(quick, folder, "fixed")
