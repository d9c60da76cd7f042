"""Stopping background loop tasks reliably on Python 3.11.

On 3.11 ``asyncio.wait_for`` (which redis-py and aiokafka use on every call) returns the inner
result instead of raising when a cancel arrives just as the inner call completes; 3.12 fixed this
by rebuilding ``wait_for`` on ``asyncio.timeout``. A loop cancelled at that moment carries on as if
nothing happened, and waiting on a single ``cancel()`` then hangs shutdown forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

_RECANCEL_EVERY = 0.05


async def cancel_and_wait(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` until it is done (see above), then re-raise what it failed with, if not a cancel."""
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=_RECANCEL_EVERY)
    with contextlib.suppress(asyncio.CancelledError):
        await task
