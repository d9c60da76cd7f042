"""The saga side of the benchmark: the real coordinator and jobs as processes, started over HTTP.

Two variants: ``jobs="derived"`` runs the five derived-job services with their provider
simulators (Redis-backed ledgers, real SMTP), ``jobs="noop"`` runs the same runtime with provider
calls that do nothing (``bench.noop_job``), which is the framework's own cost.
"""

from __future__ import annotations

import time
import uuid
from typing import Literal

from sagaline.saga.workflows import order_processing_workflow
from sagaline_demo.checks import JOB_OF_PROVIDER
from sagaline_demo.orders import iter_orders
from sagaline_demo.processes import ServiceSpec
from sagaline_demo.system import JOBS, System, SystemConfig
from sagaline_demo.world import prepare_world

JobsVariant = Literal["derived", "noop"]


def noop_jobs() -> list[ServiceSpec]:
    """One no-op job per provider of the order workflow, on the port of the derived job it stands for."""
    ports = dict(JOBS)
    return [
        ServiceSpec(
            f"noop_{provider}_job",
            "bench.noop_job",
            ports[JOB_OF_PROVIDER[provider]],
            {
                "SAGALINE_BENCH_TEMPLATE": step.template.name,
                "SAGALINE_PROVIDER": provider,
                "SAGALINE_JOB_NAME": f"noop_{provider}_job",
            },
        )
        for step in order_processing_workflow.steps
        for provider in step.providers
    ]


class SagaBench:
    def __init__(self, jobs: JobsVariant = "derived") -> None:
        self.system = System(SystemConfig(), poll_seconds=0.005, jobs=noop_jobs() if jobs == "noop" else None)
        self._orders = iter_orders(self.system.config.run_id, declined=0, undeliverable=0)

    async def __aenter__(self) -> SagaBench:
        await self.system.start()
        await prepare_world(self.system)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.system.stop()

    async def one_saga(self) -> float:
        order = next(self._orders)
        started = time.perf_counter()
        saga_id = await self.system.start_saga(order.data, key=uuid.uuid4().hex)
        state = await self.system.wait_final(saga_id)
        if state.status.value != "completed":
            raise RuntimeError(f"saga {saga_id} ended {state.status.value}")
        return time.perf_counter() - started
