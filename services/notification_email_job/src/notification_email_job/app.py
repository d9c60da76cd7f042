"""The app factory: the email job wired into the template runtime (consumer, replies, DLQ, health)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from sagaline.contracts.job import IdempotencyStore, JobApp, create_app

from notification_email_job.job import EmailJob
from notification_email_job.settings import EmailSettings


def create_job_app(
    settings: EmailSettings | None = None,
    *,
    broker: KafkaBroker | None = None,
    store: IdempotencyStore | None = None,
    tracer_provider: TracerProvider | None = None,
) -> JobApp:
    """Build the job from ``settings`` (default: read from the environment); start it with
    ``await app.start()`` or serve it until SIGTERM with ``await app.serve()``."""
    job = EmailJob(settings or EmailSettings())
    return create_app(job, broker, store, tracer_provider=tracer_provider)
