"""CPU seconds used by each process of the stack, read from /proc (Linux), to split a saga's cost."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_KINDS = ("python", "java", "redis-server", "jaeger")


def _name(cmdline: list[str]) -> str | None:
    if not cmdline or not any(kind in cmdline[0] for kind in _KINDS):
        return None
    if "-m" in cmdline[:-1]:
        return cmdline[cmdline.index("-m") + 1]  # python -m <module>: the service or the driver
    if len(cmdline) > 1 and cmdline[1].endswith(".py"):
        return Path(cmdline[1]).stem  # python script.py: the raw baseline's echo jobs
    if "java" in cmdline[0]:
        return "kafka"
    return Path(cmdline[0]).name.split()[0]


def cpu_by_process() -> Counter[str]:
    """User+system CPU seconds so far, summed per process name (a service's module, kafka, …)."""
    totals: Counter[str] = Counter()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = _name([part for part in cmdline if part])
        if name is not None:
            totals[name] += (int(fields[11]) + int(fields[12])) / _TICK
    return totals


def cpu_ms_per_saga(before: Counter[str], after: Counter[str], sagas: int) -> dict[str, float]:
    """Each process's CPU milliseconds per completed saga between two readings, largest first."""
    used = {name: after[name] - before.get(name, 0.0) for name in after}
    return {
        name: round(1000 * seconds / max(sagas, 1), 2)
        for name, seconds in sorted(used.items(), key=lambda item: -item[1])
        if seconds > 0
    }
