"""``make demo``: run a few hundred orders through the real system and check the books.

Starts the coordinator and every derived job as separate processes on the local stack, sends orders
with a realistic mix (declined cards, undeliverable addresses, a payment-provider outage that forces
failover), shows progress, prints a summary, verifies the payment ledger and the traces in Jaeger,
and exits 0 only if every check holds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sagaline_demo.checks import run_checks
from sagaline_demo.orders import DemoOrder, make_orders
from sagaline_demo.report import Outcome, print_summary
from sagaline_demo.system import System, SystemConfig
from sagaline_demo.world import prepare_world, start_outage

console = Console()


async def run(orders: int, concurrency: int, outage_seconds: float) -> int:
    config = SystemConfig()
    system = System(config)
    console.print(
        f"[bold]Sagaline order demo[/] run {config.run_id}: starting the coordinator and 5 derived jobs"
    )
    await system.start()
    try:
        await prepare_world(system)
        batch = make_orders(orders, config.run_id)
        outcomes = await _drive(system, batch, concurrency, outage_seconds)
        print_summary(console, outcomes)
        ok = await run_checks(console, system, outcomes)
    finally:
        codes = await system.stop()
    unclean = {name: code for name, code in codes.items() if code != 0}
    if unclean:
        console.print(f"[red]services did not stop cleanly on SIGTERM: {unclean}[/]")
        ok = False
    console.print("[bold green]all checks hold[/]" if ok else "[bold red]some checks failed[/]")
    console.print(f"logs: {system.processes.log_dir}")
    return 0 if ok else 1


async def _drive(
    system: System, batch: list[DemoOrder], concurrency: int, outage_seconds: float
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    gate = asyncio.Semaphore(concurrency)
    outage_at = len(batch) // 3
    started_wall = time.perf_counter()

    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("orders", total=len(batch))

        async def one(index: int, order: DemoOrder) -> None:
            async with gate:
                if index == outage_at and outage_seconds > 0:
                    await start_outage(system, "stripe", outage_seconds)
                    progress.console.print(f"stripe outage for {outage_seconds:.0f}s from order {index}")
                begun = time.perf_counter()
                saga_id = await system.start_saga(order.data, key=order.order_id)
                state = await system.wait_final(saga_id)
                outcomes.append(Outcome(order, state, time.perf_counter() - begun))
                progress.advance(task)

        await asyncio.gather(*(one(i, o) for i, o in enumerate(batch)))
    wall = time.perf_counter() - started_wall
    for outcome in outcomes:
        outcome.wall_seconds = wall
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sagaline-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300, help="orders to run (default 300)")
    parser.add_argument("--concurrency", type=int, default=24, help="orders in flight at once (default 24)")
    parser.add_argument("--outage-seconds", type=float, default=3.0, help="stripe outage length (0: none)")
    args = parser.parse_args(argv)
    if args.orders < 1 or args.concurrency < 1:
        parser.error("--orders and --concurrency must be at least 1")
    return asyncio.run(run(args.orders, args.concurrency, args.outage_seconds))


if __name__ == "__main__":
    sys.exit(main())
