"""The demo's summary table: final states, failovers, compensations, latency and throughput."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from sagaline.saga.state import SagaState

from sagaline_demo.orders import DemoOrder


@dataclass
class Outcome:
    order: DemoOrder
    state: SagaState
    seconds: float
    wall_seconds: float = 0.0

    def has(self, event: str) -> bool:
        return any(h.event == event for h in self.state.history)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def print_summary(console: Console, outcomes: list[Outcome]) -> None:
    states = Counter(o.state.status.value for o in outcomes)
    by_kind = Counter((o.order.kind, o.state.status.value) for o in outcomes)
    latencies = [o.seconds for o in outcomes]
    wall = outcomes[0].wall_seconds if outcomes else 0.0

    table = Table(title="Sagas by final state")
    table.add_column("state")
    table.add_column("sagas", justify="right")
    for state, count in sorted(states.items()):
        table.add_row(state, str(count))
    console.print(table)

    mix = Table(title="Order mix and what became of it")
    mix.add_column("order kind")
    mix.add_column("final state")
    mix.add_column("sagas", justify="right")
    for (kind, state), count in sorted(by_kind.items()):
        mix.add_row(kind, state, str(count))
    console.print(mix)

    figures = Table(title="Figures")
    figures.add_column("measure")
    figures.add_column("value", justify="right")
    figures.add_row("failovers (stripe -> paypal)", str(sum(o.has("failover") for o in outcomes)))
    figures.add_row(
        "failed-over sagas that undid stripe's part first",
        str(sum(o.has("settling") for o in outcomes)),
    )
    figures.add_row("sagas that compensated", str(sum(o.has("compensating") for o in outcomes)))
    figures.add_row(
        "saga latency p50 / p95 / p99",
        " / ".join(f"{percentile(latencies, q) * 1000:.0f} ms" for q in (50, 95, 99)),
    )
    figures.add_row("throughput", f"{len(outcomes) / wall:.1f} sagas/s over {wall:.1f} s" if wall else "n/a")
    console.print(figures)
