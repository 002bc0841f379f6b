"""The engine's Prometheus metrics, read from its tables when they are scraped.

Nothing is counted in memory: each scrape asks PostgreSQL, through the partial indexes the
sweep uses, so a scrape reads only runs and steps still in flight, never the finished history.
The endpoint that serves them belongs to the project (``labtrack.metrics``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, Min, Q
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from workflows import clock
from workflows.models import SWEEP_HEARTBEAT, Heartbeat, Run, RunStatus, StepStatus, StepTask

# Runs not finished yet; finished runs only grow in number and are not a scrape's business.
IN_FLIGHT = [RunStatus.RUNNING, RunStatus.WAITING, RunStatus.BLOCKED]


def _age(now: datetime, since: datetime | None) -> float:
    return max((now - since).total_seconds(), 0.0) if since is not None else 0.0


class WorkflowCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        runs = GaugeMetricFamily(
            "labtrack_workflow_runs",
            "Workflow runs not finished yet, by workflow and status (running, waiting, blocked).",
            labels=["workflow", "status"],
        )
        counted = (
            Run.objects.filter(status__in=IN_FLIGHT)
            .values_list("workflow", "status")
            .annotate(n=Count("*"))
            .order_by("workflow", "status")
        )
        blocked = 0
        for workflow, status, n in counted:
            runs.add_metric([workflow, status], n)
            blocked += n if status == RunStatus.BLOCKED else 0
        yield runs
        yield GaugeMetricFamily(
            "labtrack_workflow_blocked_runs",
            "Runs blocked until a person acts (or the code is fixed), all workflows together.",
            value=blocked,
        )

        pending = StepTask.objects.filter(status=StepStatus.PENDING, next_attempt_at__lte=now)
        due = pending.aggregate(n=Count("*"), oldest=Min("next_attempt_at"))
        yield GaugeMetricFamily(
            "labtrack_workflow_ready_steps",
            "Steps due to run that no worker has started yet.",
            value=due["n"],
        )
        yield GaugeMetricFamily(
            "labtrack_workflow_oldest_ready_step_seconds",
            "How long the longest-waiting due step has waited for a worker (0 when none waits).",
            value=_age(now, due["oldest"]),
        )
        retrying = StepTask.objects.filter(status=StepStatus.PENDING, attempt__gt=0).count()
        yield GaugeMetricFamily(
            "labtrack_workflow_retrying_steps",
            "Steps that failed at least once and wait for another attempt.",
            value=retrying,
        )
        running = StepTask.objects.filter(status=StepStatus.RUNNING).aggregate(
            n=Count("*"), expired=Count("pk", filter=Q(lease_expires_at__lt=now))
        )
        yield GaugeMetricFamily(
            "labtrack_workflow_running_steps", "Steps a worker has started.", value=running["n"]
        )
        yield GaugeMetricFamily(
            "labtrack_workflow_expired_leases",
            "Started steps past their lease (worker lost or step too slow), not yet swept.",
            value=running["expired"],
        )
        unseen = Run.objects.filter(needs_advance=True).aggregate(oldest=Min("updated_at"))
        yield GaugeMetricFamily(
            "labtrack_workflow_oldest_unadvanced_run_seconds",
            "How long the run that has waited longest for an advance (an event it has not seen "
            "yet) has waited (0 when none waits).",
            value=_age(now, unseen["oldest"]),
        )
        last = Heartbeat.objects.filter(name=SWEEP_HEARTBEAT).values_list("at", flat=True).first()
        yield GaugeMetricFamily(
            "labtrack_workflow_sweep_lag_seconds",
            "Seconds since the sweep last ran (+Inf if it never has): should stay near "
            "WORKFLOWS_SWEEP_SECONDS while beat and a worker run.",
            value=_age(now, last) if last is not None else float("inf"),
        )
