"""The app factory: the FedEx job wired into the template runtime (consumer, replies, DLQ, health)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from sagaline.contracts.job import IdempotencyStore, JobApp, create_app

from shipping_fedex_job.job import FedExJob
from shipping_fedex_job.settings import FedExSettings


def create_job_app(
    settings: FedExSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: IdempotencyStore | None = None,
    tracer_provider: TracerProvider | None = None,
) -> JobApp:
    """Build the job from ``settings`` (default: read from the environment); start it with
    ``await app.start()`` or serve it until SIGTERM with ``await app.serve()``."""
    job = FedExJob(settings or FedExSettings())
    return create_app(job, broker, store, tracer_provider=tracer_provider)
