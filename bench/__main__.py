"""``make bench``: completed 4-step sagas/s and latency, side by side with the raw Kafka baseline.

Both run in one invocation on the same stack at the same closed-loop concurrency levels. Output:
JSON on stdout and in bench/results/saga_vs_raw.json, and a plot in bench/results/saga_vs_raw.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.load import LevelResult, run_level
from bench.plot import plot
from bench.raw_baseline import RawBaseline
from bench.saga_system import SagaBench

RESULTS = Path(__file__).resolve().parent / "results"


async def measure(levels: list[int], sagas: int) -> dict[str, object]:
    bootstrap = os.environ.get("SAGALINE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    raw: list[LevelResult] = []
    saga: list[LevelResult] = []
    async with RawBaseline(bootstrap) as baseline:
        await run_level(baseline.one_saga, 2, 20)  # warm-up: topic metadata, producer batches
        for level in levels:
            raw.append(await run_level(baseline.one_saga, level, sagas))
            print(f"raw  c={level}: {raw[-1].per_second}/s p99 {raw[-1].p99_ms} ms", file=sys.stderr)
    async with SagaBench() as system:
        await run_level(system.one_saga, 2, 20)
        for level in levels:
            saga.append(await run_level(system.one_saga, level, sagas))
            print(f"saga c={level}: {saga[-1].per_second}/s p99 {saga[-1].p99_ms} ms", file=sys.stderr)
    peak = max(raw, key=lambda r: r.per_second)
    half = min(raw, key=lambda r: abs(r.concurrency - max(1, peak.concurrency // 2)))
    saga_half = next(s for s in saga if s.concurrency == half.concurrency)
    best_saga = max(saga, key=lambda r: r.per_second)
    return {
        "benchmark": "completed 4-step sagas vs the same 8 Kafka hops through plain aiokafka",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "sagas_per_level": sagas,
        "raw": [asdict(r) for r in raw],
        "saga": [asdict(s) for s in saga],
        "ratios": {
            "peak_throughput_saga_over_raw": round(best_saga.per_second / peak.per_second, 3),
            "half_load_concurrency": half.concurrency,
            "half_load_p99_saga_over_raw": round(saga_half.p99_ms / half.p99_ms, 3),
        },
        "goals": {"throughput_ratio_at_least": 0.8, "p99_ratio_at_half_load_at_most": 1.5},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,4,16,32", help="closed-loop concurrency levels")
    parser.add_argument("--sagas", type=int, default=200, help="sagas per level")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    result = asyncio.run(measure(levels, args.sagas))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "saga_vs_raw.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, RESULTS / "saga_vs_raw.png")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
