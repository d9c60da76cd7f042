"""The saga-vs-raw plot: throughput and p99 latency per concurrency level."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot(result: dict[str, Any], path: Path) -> None:
    series = [
        ("raw", "raw aiokafka (8 hops)", "o"),
        ("saga", "saga, derived jobs", "s"),
        ("saga_noop", "saga, no-op provider calls", "^"),
    ]
    levels = [r["concurrency"] for r in result["raw"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label, marker in series:
        rows = result.get(key, [])
        if not rows:
            continue
        left.plot(levels, [r["per_second"] for r in rows], f"{marker}-", label=label)
        right.plot(levels, [r["p99_ms"] for r in rows], f"{marker}-", label=f"{key} p99")
    left.set(xlabel="sagas in flight", ylabel="completed per second", title="Throughput", xscale="log")
    right.set(xlabel="sagas in flight", ylabel="ms", title="p99 latency", xscale="log", yscale="log")
    for axis in (left, right):
        axis.grid(True, alpha=0.3)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
