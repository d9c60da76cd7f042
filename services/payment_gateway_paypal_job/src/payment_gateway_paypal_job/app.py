"""The app factory: the PayPal job wired into the template runtime (consumer, replies, DLQ, health)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from sagaline.contracts.job import IdempotencyStore, JobApp, create_app

from payment_gateway_paypal_job.job import PayPalJob
from payment_gateway_paypal_job.settings import PayPalSettings


def create_job_app(
    settings: PayPalSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: IdempotencyStore | None = None,
    tracer_provider: TracerProvider | None = None,
) -> JobApp:
    """Build the job from ``settings`` (default: read from the environment); start it with
    ``await app.start()`` or serve it until SIGTERM with ``await app.serve()``."""
    job = PayPalJob(settings or PayPalSettings())
    return create_app(job, broker, store, tracer_provider=tracer_provider)
