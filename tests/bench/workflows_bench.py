"""``make bench``: the durable engine next to plain Celery, on the same PostgreSQL, Redis and
worker processes, timed the same way (from the call that starts the work until the caller sees
it finished). Prints figures and ratios; asserts nothing.

1. latency per step of a 100-step sequential workflow vs a Celery chain of 100 no-op tasks;
2. durable steps per second for 500 concurrent 5-step workflows vs plain tasks per second;
3. time of one advance at history lengths of about 10, 100 and 1000 events.

With ``BENCH_SIZE=small`` (``make bench-smoke``) the volumes shrink to a smoke run's
(``tests/bench/common.py``).
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time

from tests.bench.common import SMALL, empty_database, prepare_environment, run, sized, title

POLL = 0.01  # both sides poll alike; faster polling would steal CPU from the worker
STEPS = sized(100, 20)  # of the sequential workflow (latency)
LATENCY_REPEATS = sized(5, 2)
WORKFLOWS = sized(500, 40)  # of five steps each (throughput)
THROUGHPUT_REPEATS = sized(3, 1)
HISTORY_LENGTHS = [10, 100] if SMALL else [10, 100, 1000]
ADVANCE_REPEATS = sized(50, 5)
WAIT_SECONDS = sized(300, 60)  # for a run to finish before the bench gives up


def main() -> int:
    prepare_environment()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from labtrack.celery import app
    from tests.workers import Worker, worker_broker_url

    # The worker reads the same database (this one) and the same separate Redis db as we send to.
    app.conf.broker_url = worker_broker_url()
    settings.CELERY_BROKER_URL = worker_broker_url()
    call_command("migrate", verbosity=0)
    empty_database()
    from tests.bench import bench_defs

    bench_defs.marker_client().flushdb()
    worker = Worker("tests.bench.bench_defs", concurrency=2).start()
    try:
        _warm_up()
        latency = measure_latency(steps=STEPS, repeats=LATENCY_REPEATS)
        throughput = measure_throughput(
            workflows=WORKFLOWS, steps_each=5, repeats=THROUGHPUT_REPEATS
        )
    finally:
        worker.stop()
    advances = measure_advance(HISTORY_LENGTHS, repeats=ADVANCE_REPEATS)
    report(latency, throughput, advances)
    return 0


def _wait(predicate, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark work did not finish in time")
        time.sleep(POLL)


def _run_done(run_id: str) -> bool:
    from workflows.models import Run

    return Run.objects.filter(pk=run_id, status="completed").exists()


def _warm_up() -> None:
    from workflows.api import start

    run_id = start("bench.sequential", 3)
    _wait(lambda: _run_done(run_id), seconds=60)
    _plain_chain(3)


def _plain_chain(length: int) -> float:
    from celery import chain

    from tests.bench.bench_defs import marker_client, plain_noop

    counter = f"chain:{time.monotonic_ns()}"
    began = time.perf_counter()
    signatures = [plain_noop.si(i) for i in range(length - 1)]
    chain(*signatures, plain_noop.si(length, counter)).apply_async()
    _wait(lambda: marker_client().get(counter) is not None)
    return time.perf_counter() - began


def measure_latency(*, steps: int, repeats: int) -> dict[str, float]:
    from workflows.api import start

    durable, plain = [], []
    for _ in range(repeats):
        began = time.perf_counter()
        run_id = start("bench.sequential", steps)
        _wait(lambda run_id=run_id: _run_done(run_id))
        durable.append((time.perf_counter() - began) / steps)
        plain.append(_plain_chain(steps) / steps)
    return {"durable": statistics.median(durable), "plain": statistics.median(plain)}


def measure_throughput(*, workflows: int, steps_each: int, repeats: int) -> dict[str, float]:
    """Median over ``repeats`` rounds, each round timing both sides one after the other."""
    durable, plain = [], []
    for _ in range(repeats):
        durable.append(_durable_throughput(workflows, steps_each))
        plain.append(_plain_throughput(workflows * steps_each))
    return {"durable": statistics.median(durable), "plain": statistics.median(plain)}


def _durable_throughput(workflows: int, steps_each: int) -> float:
    from workflows.api import start
    from workflows.models import Run

    began = time.perf_counter()
    ids = [start("bench.five") for _ in range(workflows)]
    unseen = iter(ids)
    next_unseen = [next(unseen)]

    def all_completed() -> bool:
        # As cheap per poll as the plain side's counter: one primary-key lookup, moving on
        # through the runs in start order as they complete.
        while Run.objects.filter(pk=next_unseen[0], status="completed").exists():
            next_unseen[0] = next(unseen, None)
            if next_unseen[0] is None:
                return True
        return False

    _wait(all_completed)
    return workflows * steps_each / (time.perf_counter() - began)


def _plain_throughput(tasks: int) -> float:
    from tests.bench.bench_defs import marker_client, plain_noop

    counter = f"plain:{time.monotonic_ns()}"
    began = time.perf_counter()
    for i in range(tasks):
        plain_noop.apply_async(args=[i, counter])
    _wait(lambda: int(marker_client().get(counter) or 0) >= tasks)
    return tasks / (time.perf_counter() - began)


def measure_advance(lengths: list[int], repeats: int) -> list[tuple[int, float, float]]:
    """Median time of one advance of a waiting run whose history has about N events: with the
    workflow kept suspended in this process, and replayed from the table (as after a restart,
    or on another worker)."""
    from workflows import executor, sessions
    from workflows.api import start
    from workflows.models import HistoryEvent
    from workflows.testing import WorkflowTestEnv

    results = []
    for length in lengths:
        with WorkflowTestEnv() as env:
            run_id = start("bench.history", max(1, (length - 4) // 3))
            env.run_until_idle()
            events = HistoryEvent.objects.filter(run_id=run_id).count()
            kept, replayed = [], []
            for _ in range(repeats):
                began = time.perf_counter()
                executor.advance_run(run_id)
                kept.append(time.perf_counter() - began)
                sessions.clear()
                began = time.perf_counter()
                executor.advance_run(run_id)
                replayed.append(time.perf_counter() - began)
        results.append((events, statistics.median(kept), statistics.median(replayed)))
    return results


def report(latency, throughput, advances) -> None:
    print(
        f"\nLabTrack workflow benchmark on {platform.node()} "
        f"({os.cpu_count()} cores, Python {platform.python_version()})"
    )
    print("Both sides: same PostgreSQL, same Redis, one worker process with --concurrency=2.\n")
    ratio = latency["durable"] / latency["plain"]
    print(title(f"1. Latency per step, {STEPS} sequential steps (median of {LATENCY_REPEATS})"))
    print(f"   durable workflow   {latency['durable'] * 1000:8.2f} ms/step")
    print(f"   plain Celery chain {latency['plain'] * 1000:8.2f} ms/step")
    print(f"   ratio durable/plain {ratio:7.2f}x   (target: at most 1.0x)\n")
    ratio = throughput["durable"] / throughput["plain"]
    print(
        title(
            f"2. Throughput, {WORKFLOWS} workflows x 5 steps vs {WORKFLOWS * 5} plain tasks "
            f"(median of {THROUGHPUT_REPEATS})"
        )
    )
    print(f"   durable steps/s    {throughput['durable']:8.0f}")
    print(f"   plain tasks/s      {throughput['plain']:8.0f}")
    print(f"   ratio durable/plain {ratio:7.2f}x   (target: at least 0.8x)\n")
    print(title(f"3. One advance of a waiting run (median of {ADVANCE_REPEATS})"))
    print("               kept in memory   replayed from the table")
    for events, kept, replayed in advances:
        print(f"   {events:5d} events  {kept * 1000:8.2f} ms      {replayed * 1000:8.2f} ms")
    print("   (target: under 10 ms at 1000 events)")


if __name__ == "__main__":
    sys.exit(run(main, "the workflow engine bench"))
