"""Closed-loop load: ``concurrency`` workers each run one saga after another until ``total`` ran."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LevelResult:
    concurrency: int
    sagas: int
    failed: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run_level(one: Callable[[], Awaitable[float]], concurrency: int, total: int) -> LevelResult:
    latencies: list[float] = []
    failed = 0
    remaining = total

    async def worker() -> None:
        nonlocal remaining, failed
        while remaining > 0:
            remaining -= 1
            try:
                latencies.append(await one())
            except Exception:
                failed += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return LevelResult(
        concurrency=concurrency,
        sagas=len(latencies),
        failed=failed,
        seconds=round(seconds, 3),
        per_second=round(len(latencies) / seconds, 2),
        p50_ms=round(statistics.median(latencies) * 1000, 1) if latencies else float("nan"),
        p95_ms=round(percentile(latencies, 95) * 1000, 1),
        p99_ms=round(percentile(latencies, 99) * 1000, 1),
    )
