"""Infrastructure fixtures shared by every test folder (root conftest, so services/*/tests see it too).

The default infrastructure is the native local stack (`make stack-up`). Where a Docker engine
exists, SAGALINE_INFRA=testcontainers starts Kafka and Redis in containers instead; Jaeger and the
SMTP sink (aiosmtpd delivering into a Maildir) stay native. A test that needs infrastructure which
is not reachable FAILS with the reason: it never skips silently.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    redis_url: str
    otlp_endpoint: str
    jaeger_query: str
    smtp_host: str
    smtp_port: int
    maildir: Path


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _native() -> Infra:
    return Infra(
        kafka_bootstrap=os.environ.get("SAGALINE_KAFKA_BOOTSTRAP", "127.0.0.1:9092"),
        redis_url=os.environ.get("SAGALINE_REDIS_URL", "redis://127.0.0.1:6379/0"),
        otlp_endpoint=os.environ.get("SAGALINE_OTLP_ENDPOINT", "http://127.0.0.1:4317"),
        jaeger_query=os.environ.get("SAGALINE_JAEGER_QUERY", "http://127.0.0.1:16686"),
        smtp_host="127.0.0.1",
        smtp_port=int(os.environ.get("SAGALINE_SMTP_PORT", "8025")),
        maildir=Path(os.environ.get("SAGALINE_MAILDIR", Path(__file__).parent / ".stack" / "mail")),
    )


def _containers() -> Iterator[Infra]:  # pragma: no cover - needs a Docker engine
    from testcontainers.kafka import KafkaContainer
    from testcontainers.redis import RedisContainer

    native = _native()
    with KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka, RedisContainer("redis:7") as redis:
        host, port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
        yield Infra(
            kafka_bootstrap=kafka.get_bootstrap_server(),
            redis_url=f"redis://{host}:{port}/0",
            otlp_endpoint=native.otlp_endpoint,
            jaeger_query=native.jaeger_query,
            smtp_host=native.smtp_host,
            smtp_port=native.smtp_port,
            maildir=native.maildir,
        )


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """Endpoints of the real Kafka, Redis and Jaeger; fails the test when one is not reachable."""
    yield from (_containers() if os.environ.get("SAGALINE_INFRA") == "testcontainers" else _checked_native())


def _checked_native() -> Iterator[Infra]:
    found = _native()
    checks = {
        "kafka": found.kafka_bootstrap.split(",")[0],
        "redis": urlparse(found.redis_url).netloc.rpartition("@")[2],
        "jaeger": urlparse(found.jaeger_query).netloc,
        "smtp": f"{found.smtp_host}:{found.smtp_port}",
    }
    down = [name for name, hostport in checks.items() if not _reachable(*_split(hostport))]
    if down:
        pytest.fail(f"local stack not reachable ({', '.join(down)}): run `make stack-up`", pytrace=False)
    yield found


def _split(hostport: str) -> tuple[str, int]:
    host, _, port = hostport.rpartition(":")
    return host, int(port)


@pytest.fixture
def system_config(infra: Infra) -> Any:
    """Settings for running the whole system as processes (sagaline_demo.System) on ``infra``;
    a new run id (own topics, groups and Redis prefix) for every test that asks."""
    from sagaline_demo.system import SystemConfig

    return SystemConfig(
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        otlp_endpoint=infra.otlp_endpoint,
        jaeger_query=infra.jaeger_query,
        smtp_port=infra.smtp_port,
    )
