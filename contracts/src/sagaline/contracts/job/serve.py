"""Running a job as a process: ``run_job(MyJob, MySettings)`` is a derived job's whole ``main``."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import uvicorn
from sagaline.contracts.job.base import TemplateJob
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.job.telemetry import configure_logging

if TYPE_CHECKING:
    from sagaline.contracts.job.app import JobApp

S = TypeVar("S", bound=JobSettings)


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises a caught SIGTERM after its graceful shutdown, so a job that drained
        # and committed everything would still die "killed by SIGTERM"; exit 0 instead.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


async def serve(app: JobApp) -> None:
    """Serve ``app`` until SIGTERM/SIGINT: stop consuming, finish in-flight work, commit, exit."""
    config = uvicorn.Config(
        app.asgi,
        host=app.settings.http_host,
        port=app.settings.http_port,
        lifespan="on",
        log_config=None,
        access_log=False,
    )
    await _Server(config).serve()


def run_job(job_class: Callable[[S], TemplateJob], settings_class: Callable[[], S]) -> None:
    """Read settings from the environment, build the job and serve it until SIGTERM."""
    from sagaline.contracts.job.app import create_app

    settings = settings_class()
    configure_logging(settings.log_level, service=settings.job_name)
    asyncio.run(create_app(job_class(settings)).serve())
