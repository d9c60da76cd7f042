"""``sagaline-coordinator``: one coordinator process serving the HTTP API.

Settings come from ``SAGALINE_*`` environment variables (``CoordinatorSettings``). The API's
lifespan starts the coordinator (Kafka consumer, outbox relay, timers) and stops it on SIGTERM or
SIGINT after uvicorn stops taking requests, so in-flight replies finish and their offsets commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from pydantic import ValidationError
from sagaline.contracts.job.telemetry import configure_logging, make_tracer_provider
from sagaline.saga.api import Lifespan, create_api
from sagaline.saga.coordinator import Coordinator
from sagaline.saga.registry import WorkflowRegistry
from sagaline.saga.settings import CoordinatorSettings
from sagaline.saga.workflows import register_default_workflows

log = logging.getLogger("sagaline.saga.coordinator")

# Time open HTTP requests get to finish once a stop signal arrived.
_GRACE_SECONDS = 10


def main() -> None:
    try:
        settings = CoordinatorSettings()
    except ValidationError as exc:
        # Name the variables only: the values may be secrets.
        problems = "; ".join(
            f"SAGALINE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        sys.exit(f"sagaline-coordinator: invalid settings: {problems}")
    configure_logging(settings.log_level, service=settings.service_name)
    provider = make_tracer_provider(settings.service_name, settings.otlp_endpoint)
    trace.set_tracer_provider(provider)
    shutdown = Shutdown()
    shutdown.install()
    asyncio.run(serve(settings, provider, shutdown=shutdown))


class Shutdown:
    """Exit status after a stop signal: 0 once the coordinator stopped cleanly.

    uvicorn handles SIGTERM/SIGINT while it serves and, after its graceful shutdown, raises the
    signal again against the handler it found. With the default handlers that would kill a process
    that already stopped cleanly (and make SIGINT print a traceback); this handler lets ``main``
    return instead. A signal that arrives before uvicorn took over, or after an unclean stop, still
    ends the process, with 128 + the signal number.
    """

    def __init__(self) -> None:
        self.clean = False

    def install(self) -> None:
        for stop_signal in (signal.SIGTERM, signal.SIGINT):
            signal.signal(stop_signal, self._handle)

    def _handle(self, signum: int, _: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if not self.clean:
            raise SystemExit(128 + signum)
        log.info("stopped on %s", name)


async def serve(
    settings: CoordinatorSettings,
    tracer_provider: TracerProvider,
    registry: WorkflowRegistry | None = None,
    shutdown: Shutdown | None = None,
) -> None:
    """Run the coordinator and its API until uvicorn is told to stop."""
    registry = registry or register_default_workflows(WorkflowRegistry())
    # Built inside the running loop: the Kafka clients bind to it.
    coordinator = Coordinator(settings, registry, tracer_provider)
    app = create_api(
        coordinator,
        settings,
        lifespan=coordinator_lifespan(coordinator, tracer_provider, shutdown or Shutdown()),
    )
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep the JSON log handlers configured above
        lifespan="on",
        timeout_graceful_shutdown=_GRACE_SECONDS,
    )
    await uvicorn.Server(config).serve()


def coordinator_lifespan(
    coordinator: Coordinator, tracer_provider: TracerProvider, shutdown: Shutdown
) -> Lifespan:
    """Start ``coordinator`` before the API serves; stop it, then flush spans, after it stopped."""

    @asynccontextmanager
    async def running(_: FastAPI) -> AsyncIterator[None]:
        try:
            await coordinator.start()
        except Exception:
            log.exception("coordinator failed to start")
            # Release what did start; the start failure is the error worth reporting.
            with contextlib.suppress(Exception):
                await _stop(coordinator, tracer_provider)
            raise
        log.info("coordinator started")
        try:
            yield
        finally:
            await _stop(coordinator, tracer_provider)
        shutdown.clean = True

    return running


async def _stop(coordinator: Coordinator, tracer_provider: TracerProvider) -> None:
    try:
        await coordinator.stop()
        log.info("coordinator stopped")
    finally:
        tracer_provider.shutdown()


if __name__ == "__main__":
    main()
