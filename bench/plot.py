"""The saga-vs-raw plot: throughput and p99 latency per concurrency level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot(result: dict[str, Any], path: Path) -> None:
    raw, saga = result["raw"], result["saga"]
    levels = [r["concurrency"] for r in raw]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(levels, [r["per_second"] for r in raw], "o-", label="raw aiokafka (8 hops)")
    left.plot(levels, [s["per_second"] for s in saga], "s-", label="Sagaline 4-step saga")
    left.set(xlabel="sagas in flight", ylabel="completed per second", title="Throughput", xscale="log")
    right.plot(levels, [r["p99_ms"] for r in raw], "o-", label="raw p99")
    right.plot(levels, [s["p99_ms"] for s in saga], "s-", label="saga p99")
    right.plot(levels, [s["p50_ms"] for s in saga], "s--", label="saga p50", alpha=0.6)
    right.set(xlabel="sagas in flight", ylabel="ms", title="Latency", xscale="log")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
