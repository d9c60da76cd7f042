"""Prometheus metrics of the coordinator."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SAGAS = Counter("sagaline_sagas_total", "Sagas by workflow and final event.", ["workflow", "event"])
TRANSITIONS = Counter("sagaline_transitions_total", "Stored transitions by incoming kind.", ["incoming"])
IGNORED = Counter(
    "sagaline_ignored_total", "Incoming that changed nothing (duplicate/late/stale).", ["incoming"]
)
CONFLICTS = Counter("sagaline_cas_conflicts_total", "Transitions recomputed after losing a compare-and-set.")
STEP_EVENTS = Counter(
    "sagaline_step_events_total", "Retries, failovers and compensations.", ["workflow", "event"]
)
STEP_LATENCY = Histogram(
    "sagaline_step_latency_seconds",
    "Time from a command's send to its reply.",
    ["workflow", "step"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_PUBLISHED = Counter("sagaline_outbox_published_total", "Outbox entries sent to Kafka.")
OUTBOX_PENDING = Gauge("sagaline_outbox_pending", "Outbox entries not yet acknowledged (outbox lag).")
DLQ = Counter("sagaline_coordinator_dlq_total", "Undecodable or forged events sent to the DLQ.", ["reason"])
