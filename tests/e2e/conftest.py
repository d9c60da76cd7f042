"""The whole system as processes (five derived jobs, one coordinator) on the real local stack."""

from __future__ import annotations

import pytest
from sagaline_demo.system import System
from sagaline_demo.world import prepare_world


@pytest.fixture(scope="module")
async def system(system_config):
    running = System(system_config)
    await running.start()
    await prepare_world(running)
    yield running
    codes = await running.stop()
    assert all(code == 0 for code in codes.values()), f"unclean stop on SIGTERM: {codes}"
