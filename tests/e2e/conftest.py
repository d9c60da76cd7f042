"""The whole system as processes (five derived jobs, one coordinator) on the real local stack."""

from __future__ import annotations

import pytest
from sagaline_demo.system import System
from sagaline_demo.world import prepare_world


@pytest.fixture(scope="module")
async def system(infra):
    from sagaline_demo.system import SystemConfig

    running = System(
        SystemConfig(
            kafka_bootstrap=infra.kafka_bootstrap,
            redis_url=infra.redis_url,
            otlp_endpoint=infra.otlp_endpoint,
            jaeger_query=infra.jaeger_query,
            smtp_port=infra.smtp_port,
        )
    )
    await running.start()
    await prepare_world(running)
    yield running
    codes = await running.stop()
    assert all(code == 0 for code in codes.values()), f"unclean stop on SIGTERM: {codes}"
