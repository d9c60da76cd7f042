"""``make bench``: completed 4-step sagas/s and latency, side by side with the raw Kafka baseline.

All three run in one invocation on the same stack at the same closed-loop concurrency levels:
``raw`` (the same 8 Kafka hops through plain aiokafka echo processes, no saga state),
``saga`` (the coordinator and the five derived-job services with their provider simulators) and
``saga_noop`` (the coordinator and the same job runtime with provider calls that do nothing: what
Sagaline itself costs). At the highest level the CPU each process used per saga is recorded too.
Output: JSON on stdout and in bench/results/saga_vs_raw.json, a plot in bench/results/saga_vs_raw.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.cpu import cpu_by_process, cpu_ms_per_saga
from bench.load import LevelResult, run_level
from bench.plot import plot
from bench.raw_baseline import RawBaseline
from bench.saga_system import SagaBench

RESULTS = Path(__file__).resolve().parent / "results"
WARM_UP_SECONDS = 8.0


async def _levels(
    name: str, one: Callable[[], Awaitable[float]], levels: list[int], sagas: int
) -> tuple[list[LevelResult], dict[str, float]]:
    # Warm-up: topic metadata, and the consumer groups settling. Services answer /ready before
    # every group finished rebalancing, and for a few seconds after that hops take ~100 ms more.
    warm_until = time.monotonic() + WARM_UP_SECONDS
    while time.monotonic() < warm_until:
        await run_level(one, 2, 20)
    results: list[LevelResult] = []
    cpu: dict[str, float] = {}
    for level in levels:
        before = cpu_by_process()
        results.append(await run_level(one, level, sagas))
        cpu = cpu_ms_per_saga(before, cpu_by_process(), results[-1].sagas)
        r = results[-1]
        print(f"{name:9s} c={level}: {r.per_second}/s p50 {r.p50_ms} p99 {r.p99_ms} ms", file=sys.stderr)
    return results, cpu


def _ratios(raw: list[LevelResult], saga: list[LevelResult]) -> dict[str, Any]:
    peak = max(raw, key=lambda r: r.per_second)
    half = min(raw, key=lambda r: abs(r.concurrency - max(1, peak.concurrency // 2)))
    saga_half = next(s for s in saga if s.concurrency == half.concurrency)
    return {
        "peak_throughput_over_raw": round(max(s.per_second for s in saga) / peak.per_second, 3),
        "half_load_concurrency": half.concurrency,
        "half_load_p99_over_raw": round(saga_half.p99_ms / half.p99_ms, 3),
    }


async def measure(levels: list[int], sagas: int) -> dict[str, Any]:
    bootstrap = os.environ.get("SAGALINE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    async with RawBaseline(bootstrap) as baseline:
        raw, raw_cpu = await _levels("raw", baseline.one_saga, levels, sagas)
    async with SagaBench("derived") as system:
        saga, saga_cpu = await _levels("saga", system.one_saga, levels, sagas)
    async with SagaBench("noop") as system:
        noop, noop_cpu = await _levels("saga_noop", system.one_saga, levels, sagas)
    return {
        "benchmark": "completed 4-step sagas vs the same 8 Kafka hops through plain aiokafka",
        "command": "make bench  (uv run python -m bench)",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "sagas_per_level": sagas,
        "raw": [asdict(r) for r in raw],
        "saga": [asdict(s) for s in saga],
        "saga_noop": [asdict(s) for s in noop],
        "ratios": {"saga": _ratios(raw, saga), "saga_noop": _ratios(raw, noop)},
        "goals": {"throughput_ratio_at_least": 0.8, "p99_ratio_at_half_load_at_most": 1.5},
        "cpu_ms_per_saga_at_top_level": {"raw": raw_cpu, "saga": saga_cpu, "saga_noop": noop_cpu},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,4,16,32", help="closed-loop concurrency levels")
    parser.add_argument("--sagas", type=int, default=200, help="sagas per level")
    args = parser.parse_args(argv)
    try:
        levels = sorted({int(x) for x in args.levels.split(",")})
    except ValueError:
        parser.error(f"--levels takes comma-separated integers, not {args.levels!r}")
    if not levels or min(levels) < 1 or args.sagas < 1:
        parser.error("--levels and --sagas must be at least 1")
    result = asyncio.run(measure(levels, args.sagas))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "saga_vs_raw.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, RESULTS / "saga_vs_raw.png")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
