"""Per-message cost of a TemplateJob against a bare FastStream handler doing the same provider call.

Both run on ONE KafkaBroker (idempotent producer, acks=all, the same telemetry and Prometheus
middlewares) against the real local Kafka, each as one consumer of a one-partition topic with
AckPolicy.MANUAL, publishing a reply and committing handled offsets in batches. The bare handler
parses JSON, calls the provider and publishes its answer; the TemplateJob adds what it is for: envelope
decoding, signature check, contract/type checks, payload validation, the Redis idempotency claim
and outcome store, a signed reply envelope, saga attributes on the consumer span, its metrics.

Cost per message = the gap between consecutive provider calls in steady state (the first 10% of
each round is warm-up), pooled over rounds; rounds alternate which handler goes first. The ratio
compares medians (the machine is shared, so means carry other processes' stalls); means are
reported too.

    uv run python bench/template_job_overhead.py [--messages 1000] [--rounds 6] [--profile]

Prints JSON and writes it to bench/results/template_job_overhead.json (not a test: no assertion).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.middlewares import AckPolicy
from sagaline.contracts.job import (
    JobContext,
    JobMetrics,
    JobSettings,
    PaymentGatewayJob,
    create_app,
    make_broker,
    make_tracer_provider,
)
from sagaline.contracts.job.commits import OffsetCommitter
from sagaline.contracts.job.kafka import commit_handled, undecoded
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentRefunded,
    RefundPayment,
)
from sagaline.contracts.testing import command_envelope, delete_keys, ensure_topics

GOAL_RATIO = 1.3
WARM_UP = 200
RESULT = Path(__file__).parent / "results" / "template_job_overhead.json"
PROFILE = Path(__file__).parent / "results" / "template_job_overhead.profile.txt"


async def provider_charge(order_id: str, amount_cents: int) -> str:
    """The shared 'provider call': in memory, so the comparison isolates the runtime's own cost."""
    return f"ch_{order_id}_{amount_cents}"


class BenchPaymentJob(PaymentGatewayJob):
    def __init__(self, settings: JobSettings, calls: list[float]) -> None:
        super().__init__(settings)
        self.calls = calls

    async def charge(self, command: ChargePayment, ctx: JobContext) -> PaymentCharged:
        self.calls.append(time.perf_counter())
        charge_id = await provider_charge(command.order_id, command.amount_cents)
        return PaymentCharged(
            order_id=command.order_id,
            charge_id=charge_id,
            amount_cents=command.amount_cents,
            currency=command.currency,
        )

    async def refund(self, command: RefundPayment, ctx: JobContext) -> PaymentRefunded:
        raise NotImplementedError("the benchmark only charges")


def intervals_us(calls: list[float]) -> list[float]:
    """Gaps between consecutive provider calls after a 10% warm-up: one per message handled."""
    steady = calls[len(calls) // 10 :]
    return [(later - earlier) * 1e6 for earlier, later in itertools.pairwise(steady)]


async def wait_for(calls: list[float], count: int, within: float = 300.0) -> None:
    deadline = time.monotonic() + within
    while len(calls) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(calls)}/{count} messages handled in {within}s")
        await asyncio.sleep(0.05)


async def produce(producer: AIOKafkaProducer, topic: str, bodies: list[tuple[bytes, bytes]]) -> None:
    futures = [await producer.send(topic, body, key=key) for key, body in bodies]
    await asyncio.gather(*futures)


async def run(messages: int, rounds: int, profile: bool) -> dict[str, Any]:
    load_at_start = os.getloadavg()[0]
    bootstrap = os.environ.get("SAGALINE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    redis_url = os.environ.get("SAGALINE_REDIS_URL", "redis://127.0.0.1:6379/0")
    run_id = uuid.uuid4().hex[:10]
    settings = JobSettings(
        job_name="bench_payment_job",
        provider="bench",
        kafka_bootstrap=bootstrap,
        redis_url=redis_url,
        topic_prefix=f"bench.{run_id}.",
        redis_prefix=f"bench:{run_id}:",
        signing_keys=f"bench:{uuid.uuid4().hex}",
        concurrency=1,
        command_partitions=1,
        dedupe_ttl_seconds=600,
        otlp_endpoint=None,
    )
    metrics = JobMetrics(settings.job_name)
    tracer_provider = make_tracer_provider(settings.job_name)
    broker = make_broker(settings, tracer_provider=tracer_provider, metrics=metrics)
    job_calls: list[float] = []
    job = BenchPaymentJob(settings, job_calls)
    app = create_app(job, broker=broker, tracer_provider=tracer_provider, metrics=metrics)

    bare_calls: list[float] = []
    # Commits batched as the runtime's are: the comparison is of the work per message, not of
    # one commit request per message against one per batch.
    bare_committer = OffsetCommitter(settings.commit_interval_seconds)
    bare_commands, bare_events = f"bench.{run_id}.bare.commands", f"bench.{run_id}.bare.events"

    @broker.subscriber(
        bare_commands,
        group_id=f"bench.{run_id}.bare",
        ack_policy=AckPolicy.MANUAL,
        auto_offset_reset="earliest",
        decoder=undecoded,
    )
    async def bare_handler(message: Any) -> None:
        command = json.loads(message.body)
        bare_calls.append(time.perf_counter())
        charge_id = await provider_charge(command["order_id"], command["amount_cents"])
        reply = {
            "order_id": command["order_id"],
            "charge_id": charge_id,
            "amount_cents": command["amount_cents"],
        }
        await broker.publish(json.dumps(reply).encode(), bare_events, key=message.raw_message.key)
        await commit_handled(message, bare_committer)

    topics = {
        app.topics.commands: 1,
        app.topics.events: 1,
        app.topics.dlq: 1,
        bare_commands: 1,
        bare_events: 1,
    }
    await ensure_topics(bootstrap, topics)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    ring = settings.key_ring()
    per_round: list[dict[str, float]] = []
    pooled: dict[str, list[float]] = {"template_job": [], "bare": []}
    # CPU of this whole process (both consumers live in it) while a phase runs: what limits
    # throughput once the job is busy, where the gaps above measure one message's latency.
    cpu: dict[str, float] = {"template_job": 0.0, "bare": 0.0}
    try:
        await app.start()

        async def job_round(count: int = messages) -> list[float]:
            start = len(job_calls)
            bodies = []
            for i in range(count):
                cmd = ChargePayment(order_id=f"o{i}", amount_cents=100 + i, card_token="tok_bench")
                env = command_envelope(app.job.template, cmd, ring)
                bodies.append((env.saga_id.encode(), env.to_bytes()))
            await produce(producer, app.topics.commands, bodies)
            await wait_for(job_calls, start + count)
            return intervals_us(job_calls[start:])

        async def bare_round(count: int = messages) -> list[float]:
            start = len(bare_calls)
            bodies = []
            for i in range(count):
                command = {"order_id": f"o{i}", "amount_cents": 100 + i}
                bodies.append((f"saga-{uuid.uuid4()}".encode(), json.dumps(command).encode()))
            await produce(producer, bare_commands, bodies)
            await wait_for(bare_calls, start + count)
            return intervals_us(bare_calls[start:])

        phases: list[tuple[str, Callable[[], Awaitable[list[float]]]]] = [
            ("template_job", job_round),
            ("bare", bare_round),
        ]
        # Warm-up outside the figures: connections, caches and the consumer groups settle.
        await job_round(WARM_UP)
        await bare_round(WARM_UP)
        for number in range(rounds):
            result: dict[str, float] = {}
            for name, phase in phases if number % 2 == 0 else phases[::-1]:
                cpu_before = time.process_time()
                gaps = await phase()
                cpu[name] += time.process_time() - cpu_before
                pooled[name].extend(gaps)
                result[f"{name}_mean_us"] = statistics.fmean(gaps)
                result[f"{name}_median_us"] = statistics.median(gaps)
            result["median_ratio"] = result["template_job_median_us"] / result["bare_median_us"]
            result["mean_ratio"] = result["template_job_mean_us"] / result["bare_mean_us"]
            per_round.append({k: round(v, 3) for k, v in result.items()})
            print(f"round {number + 1}: {per_round[-1]}", file=sys.stderr)
        if profile:
            # An extra round outside the figures: the profiler slows down what it samples.
            from pyinstrument import Profiler

            # Samples the whole thread: the consumer runs in FastStream's tasks, not in this one.
            profiler = Profiler(async_mode="disabled", interval=0.0005)
            profiler.start()
            await job_round()
            profiler.stop()
            PROFILE.parent.mkdir(parents=True, exist_ok=True)
            PROFILE.write_text(profiler.output_text(unicode=False, color=False, show_all=False))
    finally:
        await bare_committer.close()
        await app.stop()
        await producer.stop()
        await delete_keys(redis_url, settings.redis_prefix)
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.delete_topics(list(topics))
        finally:
            await admin.close()

    job_us, bare_us = statistics.median(pooled["template_job"]), statistics.median(pooled["bare"])
    job_mean, bare_mean = statistics.fmean(pooled["template_job"]), statistics.fmean(pooled["bare"])
    ratio = job_us / bare_us
    return {
        "benchmark": "template_job_overhead",
        "command": " ".join(["uv run python bench/template_job_overhead.py", *sys.argv[1:]]),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "messages_per_round": messages,
        "rounds": rounds,
        "template_job_us_per_message": round(job_us, 1),
        "bare_handler_us_per_message": round(bare_us, 1),
        "ratio": round(ratio, 3),
        "goal_ratio": GOAL_RATIO,
        "within_goal": ratio <= GOAL_RATIO,
        "statistic": "median gap between consecutive provider calls, pooled over rounds (robust to "
        "stalls caused by other processes on a shared machine); means reported alongside",
        "template_job_mean_us_per_message": round(job_mean, 1),
        "bare_handler_mean_us_per_message": round(bare_mean, 1),
        "mean_ratio": round(job_mean / bare_mean, 3),
        "per_round": per_round,
        "cpu_us_per_message": {
            name: round(seconds * 1e6 / (messages * rounds), 1) for name, seconds in cpu.items()
        },
        "cpu_ratio": round(cpu["template_job"] / cpu["bare"], 3),
        "both": "one KafkaBroker (idempotent producer, acks=all, telemetry + Prometheus middlewares); "
        "one consumer of a 1-partition topic each; AckPolicy.MANUAL; reply published, then the offset "
        "committed in batches (OffsetCommitter, the runtime's commit_interval_seconds)",
        "template_job_adds": "envelope decode, HMAC verify, contract/type checks, payload validation, "
        "Redis claim + outcome store (2 round trips), signed reply envelope, saga span attributes, metrics",
        "bare_handler_does": "json.loads, the provider call, json.dumps reply, publish, commit",
        "environment": {
            "python": platform.python_version(),
            "faststream": version("faststream"),
            "aiokafka": version("aiokafka"),
            "redis_py": version("redis"),
            "cpus": os.cpu_count(),
            # The machine is shared: high load widens the spread between rounds.
            "load_average_1m_at_start": round(load_at_start, 2),
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000, help="commands per handler per round")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument(
        "--profile", action="store_true", help=f"pyinstrument the last job round -> {PROFILE}"
    )
    parser.add_argument("--output", type=Path, default=RESULT)
    args = parser.parse_args()
    result = asyncio.run(run(args.messages, args.rounds, args.profile))
    text = json.dumps(result, indent=2)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
