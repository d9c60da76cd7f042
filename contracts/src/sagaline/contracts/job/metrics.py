"""Prometheus metrics of one job, in a registry of its own (one per app, so tests never collide)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase


class JobMetrics:
    def __init__(self, job_name: str, registry: CollectorRegistry | None = None) -> None:
        self.job_name = job_name
        self.registry = registry or CollectorRegistry()
        self._children: dict[tuple[int, tuple[str, ...]], Any] = {}
        self._commands = Counter(
            "sagaline_job_commands",
            "Commands answered, by operation, outcome and whether the answer was a replay.",
            ["job", "operation", "outcome", "replayed"],
            registry=self.registry,
        )
        self._provider_calls = Counter(
            "sagaline_job_provider_calls",
            "Calls of a provider hook, by result (ok, declined, transient, error).",
            ["job", "operation", "result"],
            registry=self.registry,
        )
        self._dead_letters = Counter(
            "sagaline_job_dead_letters",
            "Messages sent to the DLQ, by reason.",
            ["job", "reason"],
            registry=self.registry,
        )
        self._infrastructure_errors = Counter(
            "sagaline_job_infrastructure_errors",
            "Deliveries left uncommitted because Redis or Kafka failed; they are consumed again.",
            ["job"],
            registry=self.registry,
        )
        self._duplicate_waits = Counter(
            "sagaline_job_duplicate_waits",
            "Commands that waited for a concurrent duplicate's outcome instead of calling the provider.",
            ["job", "operation"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "sagaline_job_command_duration_seconds",
            "Time from an admitted command to its published reply.",
            ["job", "operation"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "sagaline_job_in_flight", "Commands being handled now.", ["job"], registry=self.registry
        ).labels(job=job_name)

    def _child(self, metric: MetricWrapperBase, *labels: str) -> Any:
        # labels() validates and locks on every call; the label sets of a job are few and fixed.
        key = (id(metric), labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(self.job_name, *labels)
        return child

    def command_answered(self, operation: str, outcome: str, *, replayed: bool, seconds: float) -> None:
        self._child(self._commands, operation, outcome, "true" if replayed else "false").inc()
        self._child(self._duration, operation).observe(seconds)

    def provider_called(self, operation: str, result: str) -> None:
        self._child(self._provider_calls, operation, result).inc()

    def duplicate_waited(self, operation: str) -> None:
        self._duplicate_waits.labels(self.job_name, operation).inc()

    def dead_lettered(self, reason: str) -> None:
        self._dead_letters.labels(self.job_name, reason).inc()

    def infrastructure_error(self) -> None:
        self._infrastructure_errors.labels(self.job_name).inc()
