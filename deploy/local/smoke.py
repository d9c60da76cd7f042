"""A smoke round trip through the local stack: Kafka (idempotent produce, group consume), Redis, Jaeger.

Prints each step and exits non-zero on the first one that fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import urllib.request
import uuid

import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

KAFKA = os.environ.get("SAGALINE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
REDIS = os.environ.get("SAGALINE_REDIS_URL", "redis://127.0.0.1:6379/0")
OTLP = os.environ.get("SAGALINE_OTLP_ENDPOINT", "http://127.0.0.1:4317")
JAEGER = os.environ.get("SAGALINE_JAEGER_QUERY", "http://127.0.0.1:16686")


async def kafka_round_trip(run_id: str) -> str:
    topic = f"sagaline.smoke.{run_id}"
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        meta = await producer.send_and_wait(topic, f"hello {run_id}".encode(), key=run_id.encode())
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=KAFKA,
        group_id=f"smoke-{run_id}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
        await consumer.commit()
    finally:
        await consumer.stop()
    return f"produced to {topic}[{meta.partition}]@{meta.offset}, consumed {record.value!r} in a group"


async def redis_round_trip(run_id: str) -> str:
    client = aioredis.from_url(REDIS)
    try:
        key = f"sagaline:smoke:{run_id}"
        await client.set(key, run_id, ex=300)
        value = await client.get(key)
        if value != run_id.encode():
            raise RuntimeError(f"read back {value!r}")
        return f"SET/GET {key} ok"
    finally:
        await client.aclose()


def jaeger_round_trip(run_id: str) -> str:
    provider = TracerProvider(resource=Resource.create({"service.name": "sagaline-smoke"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=OTLP, insecure=True)))
    with provider.get_tracer("smoke").start_as_current_span("smoke", attributes={"run_id": run_id}) as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{JAEGER}/api/traces/{trace_id}", timeout=5) as resp:
                if json.loads(resp.read()).get("data"):
                    return f"span exported over OTLP, found at {JAEGER}/trace/{trace_id}"
        except urllib.error.HTTPError as exc:
            if exc.code != 404:
                raise
        time.sleep(0.2)
    raise RuntimeError(f"trace {trace_id} not found in Jaeger within 30s")


def main() -> int:
    run_id = uuid.uuid4().hex[:12]
    steps = [
        ("kafka", lambda: asyncio.run(kafka_round_trip(run_id))),
        ("redis", lambda: asyncio.run(redis_round_trip(run_id))),
        ("jaeger", lambda: jaeger_round_trip(run_id)),
    ]
    for name, step in steps:
        try:
            print(f"smoke: {name}: {step()}")
        except Exception as exc:
            print(f"smoke: {name}: FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    print("smoke: all round trips ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
