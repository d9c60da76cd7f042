"""Wiring: ``create_app`` builds a runnable job from a configured ``TemplateJob``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import TracebackType

from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.schemas import Topic
from faststream.middlewares import AckPolicy
from opentelemetry.sdk.trace import TracerProvider
from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.job.commits import OffsetCommitter
from sagaline.contracts.job.dedupe import IdempotencyStore, RedisIdempotencyStore
from sagaline.contracts.job.health import health_routes
from sagaline.contracts.job.kafka import (
    FinishBeforeRevoke,
    Lifecycle,
    command_consumer,
    make_broker,
    publisher,
    tolerant_parser,
)
from sagaline.contracts.job.kafka import undecoded as undecoded_body
from sagaline.contracts.job.metrics import JobMetrics
from sagaline.contracts.job.runtime import JobRuntime
from sagaline.contracts.job.serve import serve
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.job.telemetry import make_tracer_provider
from sagaline.contracts.job.topology import JobTopics

_log = logging.getLogger("sagaline.job")


@dataclass
class JobApp:
    """A built job: start/stop it in-process (tests) or ``serve`` it (a service's ``main``)."""

    job: TemplateJob
    settings: JobSettings
    topics: JobTopics
    broker: KafkaBroker
    store: IdempotencyStore
    runtime: JobRuntime
    metrics: JobMetrics
    tracer_provider: TracerProvider
    lifecycle: Lifecycle
    committer: OffsetCommitter
    asgi: AsgiFastStream
    owns_store: bool = False
    owns_tracer_provider: bool = False

    async def start(self) -> None:
        await self.asgi.start()

    async def stop(self) -> None:
        await self.asgi.stop()

    async def __aenter__(self) -> JobApp:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def serve(self) -> None:
        """Run until SIGTERM/SIGINT, serving /health, /ready and /metrics on the settings' port."""
        await serve(self)

    async def _on_startup(self) -> None:
        await self.job.startup()

    async def _after_startup(self) -> None:
        self.lifecycle.started = True
        _log.info(
            "%s consuming %s as group %s (concurrency %d)",
            self.settings.job_name,
            self.topics.commands,
            self.settings.group_id,
            self.settings.concurrency,
        )

    async def _on_shutdown(self) -> None:
        # Runs before the broker stops its consumers: commands in flight finish and commit first.
        finished = await self.lifecycle.drain(self.settings.shutdown_grace_seconds)
        if not finished:
            _log.warning("shutdown grace ran out with commands in flight; they will be consumed again")
        await self.committer.close()

    async def _after_shutdown(self) -> None:
        await self.job.shutdown()
        # Close only what create_app built; a caller's store or provider is the caller's to close.
        if self.owns_store:
            await self.store.close()
        if self.owns_tracer_provider:
            self.tracer_provider.shutdown()


def create_app(
    job: TemplateJob,
    broker: KafkaBroker | None = None,
    store: IdempotencyStore | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
    metrics: JobMetrics | None = None,
) -> JobApp:
    """Build the app that runs ``job`` with ``job.settings``.

    ``broker``/``store``/``tracer_provider``/``metrics`` default to ones built from the settings
    (the store and provider are then closed with the app). Pass a broker made by ``make_broker``
    (with the same ``metrics`` and ``tracer_provider``): that is what gives the replies an
    idempotent producer, trace propagation and FastStream's own metrics on ``/metrics``.
    """
    settings = job.settings
    metrics = metrics or JobMetrics(settings.job_name)
    owns_tracer_provider, owns_store = tracer_provider is None, store is None
    if tracer_provider is None:
        tracer_provider = make_tracer_provider(settings.job_name, settings.otlp_endpoint)
    if broker is None:
        broker = make_broker(settings, tracer_provider=tracer_provider, metrics=metrics)
    if store is None:
        store = RedisIdempotencyStore.from_url(settings.redis_url.get_secret_value())
    topics = JobTopics.for_job(job.template, settings.provider, settings.topic_prefix)
    runtime = JobRuntime(
        job,
        store=store,
        publish=publisher(broker),
        topics=topics,
        metrics=metrics,
        key_ring=settings.key_ring(),
    )
    lifecycle = Lifecycle(metrics)
    committer = OffsetCommitter(settings.commit_interval_seconds)
    broker.subscriber(
        Topic(topics.commands, num_partitions=settings.command_partitions, declare=settings.declare_topics),
        group_id=settings.group_id,
        # Never ACK_FIRST (auto-commit before handling = at-most-once): the consumer commits
        # itself, after the reply or dead letter is acknowledged by Kafka.
        ack_policy=AckPolicy.MANUAL,
        max_workers=settings.concurrency,
        # A job started after commands were sent must still answer them.
        auto_offset_reset="earliest",
        heartbeat_interval_ms=settings.consumer_heartbeat_ms,
        listener=FinishBeforeRevoke(lifecycle, settings.shutdown_grace_seconds, committer),
        parser=tolerant_parser,
        decoder=undecoded_body,
        title=f"{settings.job_name}:commands",
        description=f"Commands of {job.template.contract} for provider {settings.provider}.",
    )(command_consumer(runtime, lifecycle, metrics, committer))
    app = JobApp(
        job=job,
        settings=settings,
        topics=topics,
        broker=broker,
        store=store,
        runtime=runtime,
        metrics=metrics,
        tracer_provider=tracer_provider,
        lifecycle=lifecycle,
        committer=committer,
        asgi=AsgiFastStream(
            broker,
            asgi_routes=health_routes(broker, store, lifecycle, metrics),
            logger=logging.getLogger("sagaline.faststream"),
        ),
        owns_store=owns_store,
        owns_tracer_provider=owns_tracer_provider,
    )
    app.asgi.on_startup(app._on_startup)
    app.asgi.after_startup(app._after_startup)
    app.asgi.on_shutdown(app._on_shutdown)
    app.asgi.after_shutdown(app._after_shutdown)
    return app
