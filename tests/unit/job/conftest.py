"""Fixtures for the runtime's unit tests: the example job on FastStream's in-memory broker."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

_SUPPORT = str(Path(__file__).resolve().parents[2] / "support")
if _SUPPORT not in sys.path:
    sys.path.insert(0, _SUPPORT)

from fake_payment_job import FakePaymentJob, FakePaymentSettings  # noqa: E402
from faststream.kafka import TestKafkaBroker  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from sagaline.contracts.envelope import Envelope  # noqa: E402
from sagaline.contracts.job import JobApp, MemoryIdempotencyStore, create_app, make_tracer_provider  # noqa: E402
from sagaline.contracts.job.kafka import undecoded  # noqa: E402
from sagaline.contracts.messages import Command  # noqa: E402
from sagaline.contracts.testing import HookSpy, command_envelope  # noqa: E402

SIGNING_KEYS = "unit-key:0123456789abcdef0123456789abcdef"
FAST_RETRY = {"initial_interval": 0.001, "max_interval": 0.002}


@dataclass
class Captured:
    body: bytes
    key: bytes | None
    headers: dict[str, str]


@dataclass
class Rig:
    """The example job running on the in-memory broker, with what it published captured."""

    app: JobApp
    broker: Any
    spy: HookSpy
    spans: InMemorySpanExporter
    replies: list[Captured] = field(default_factory=list)
    dead_letters: list[Captured] = field(default_factory=list)

    @property
    def job(self) -> FakePaymentJob:
        return self.app.job  # type: ignore[return-value]

    def command(self, command: Command, **fields: Any) -> Envelope:
        return command_envelope(self.job.template, command, self.app.settings.key_ring(), **fields)

    async def send(self, message: Envelope | bytes, *, key: bytes = b"k", headers: dict | None = None):
        if isinstance(message, Envelope):
            body, key = message.to_bytes(), message.saga_id.encode()
        else:
            body = message
        await self.broker.publish(body, self.app.topics.commands, key=key, headers=headers)

    def reply_envelopes(self) -> list[Envelope]:
        return [Envelope.from_bytes(r.body) for r in self.replies]


def make_settings(**overrides: Any) -> FakePaymentSettings:
    fields: dict[str, Any] = {
        "signing_keys": SIGNING_KEYS,
        "otlp_endpoint": None,
        "retry": {"charge": FAST_RETRY, "refund": FAST_RETRY},
        "concurrency": 1,
    }
    fields.update(overrides)
    return FakePaymentSettings(**fields)


@pytest.fixture
def settings() -> FakePaymentSettings:
    return make_settings()


@asynccontextmanager
async def start_rig(job: FakePaymentJob) -> AsyncIterator[Rig]:
    spans = InMemorySpanExporter()
    provider = make_tracer_provider(job.settings.job_name, processors=[SimpleSpanProcessor(spans)])
    spy = HookSpy.install(job)
    app = create_app(job, store=MemoryIdempotencyStore(), tracer_provider=provider)
    rig = Rig(app=app, broker=None, spy=spy, spans=spans)

    def capture(into: list[Captured]):
        async def handler(message: Any) -> None:
            into.append(Captured(message.body, message.raw_message.key, dict(message.headers)))

        return handler

    app.broker.subscriber(app.topics.events, decoder=undecoded)(capture(rig.replies))
    app.broker.subscriber(app.topics.dlq, decoder=undecoded)(capture(rig.dead_letters))
    async with TestKafkaBroker(app.broker) as broker:
        rig.broker = broker
        app.lifecycle.started = True
        yield rig


@pytest.fixture
async def rig(settings: FakePaymentSettings) -> AsyncIterator[Rig]:
    async with start_rig(FakePaymentJob(settings)) as running:
        yield running


@pytest.fixture
def rig_for():
    """``async with rig_for(job) as rig``: a rig around any FakePaymentJob (subclass) instance."""
    return start_rig


@pytest.fixture
def settings_with():
    """``settings_with(**overrides)``: unit-test settings with some fields replaced."""
    return make_settings
