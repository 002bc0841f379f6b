"""The lab's Prometheus metrics, read from its tables when they are scraped: the audit trail's
last chain check and the unmatched-results inbox. Served with the engine's by
``labtrack.metrics``."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from samples.models import ChainCheck, UnmatchedResult


class LabCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        # One row a night (and one per check asked for by hand): a small table.
        last = ChainCheck.objects.order_by("-checked_at").values("checked_at", "intact").first()
        checked = GaugeMetricFamily(
            "labtrack_audit_chain_last_check_timestamp_seconds",
            "When the audit trail's hash chains were last checked (Unix time; absent if never).",
        )
        intact = GaugeMetricFamily(
            "labtrack_audit_chain_intact",
            "1 if the last check found every hash chain intact, 0 if it found one broken.",
        )
        if last is not None:
            checked.add_metric([], last["checked_at"].timestamp())
            intact.add_metric([], 1 if last["intact"] else 0)
        yield checked
        yield intact

        inbox = UnmatchedResult.objects.filter(resolved_at__isnull=True).aggregate(
            n=Count("*"), oldest=Min("received_at")
        )
        yield GaugeMetricFamily(
            "labtrack_inbox_unmatched_results",
            "Instrument results that matched no waiting sample, not yet matched or discarded.",
            value=inbox["n"],
        )
        oldest = inbox["oldest"]
        yield GaugeMetricFamily(
            "labtrack_inbox_oldest_unmatched_seconds",
            "How long the oldest open entry of the inbox has waited (0 when it is empty).",
            value=max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0,
        )
