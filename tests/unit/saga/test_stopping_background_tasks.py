"""Background loops stop even when a cancel is swallowed, as Python 3.11's wait_for can do."""

from __future__ import annotations

import asyncio

import pytest
from sagaline.saga._tasks import cancel_and_wait

pytestmark = pytest.mark.unit


async def test_a_loop_that_swallowed_the_first_cancel_is_still_stopped():
    swallowed = 0

    async def stubborn_loop():
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed += 1  # what wait_for does when the inner call finished at the same moment

    task = asyncio.create_task(stubborn_loop())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task), timeout=5)
    assert task.cancelled()
    assert swallowed == 1


async def test_a_loop_that_failed_reports_its_error():
    async def broken():
        raise RuntimeError("boom")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="boom"):
        await cancel_and_wait(task)
