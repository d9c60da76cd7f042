"""The foundation's promise: a real Kafka, Redis and Jaeger answer on this machine."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request
import uuid

import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

pytestmark = pytest.mark.integration


async def test_idempotent_producer_and_consumer_group_round_trip(infra):
    topic = f"it.stack.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        assert topic in await admin.list_topics()
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        sent = [f"message-{i}".encode() for i in range(20)]
        for i, value in enumerate(sent):
            await producer.send_and_wait(topic, value, key=f"saga-{i % 4}".encode())
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=infra.kafka_bootstrap,
        group_id=f"it-group-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[bytes] = []
    try:
        deadline = time.monotonic() + 30
        while len(received) < len(sent) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                received.extend(r.value for r in records)
        await consumer.commit()
    finally:
        await consumer.stop()
    assert sorted(received) == sorted(sent)


async def test_redis_round_trip_with_aof_enabled(infra):
    client = aioredis.from_url(infra.redis_url)
    key = f"it:stack:{uuid.uuid4().hex}"
    try:
        await client.set(key, "value", ex=60)
        assert await client.get(key) == b"value"
        assert (await client.config_get("appendonly"))["appendonly"] == "yes"
    finally:
        await client.delete(key)
        await client.aclose()


def _jaeger_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


async def test_span_exported_over_otlp_is_found_in_jaeger(infra):
    service = f"it-stack-{uuid.uuid4().hex[:8]}"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=infra.otlp_endpoint, insecure=True))
    )
    with provider.get_tracer("it").start_as_current_span("stack-smoke") as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()

    deadline = time.monotonic() + 30
    found: dict = {}
    while time.monotonic() < deadline:
        found = await asyncio.to_thread(
            _jaeger_json, f"{infra.jaeger_query}/api/traces?service={service}&limit=5"
        )
        if found.get("data"):
            break
        await asyncio.sleep(0.2)
    assert [t["traceID"] for t in found.get("data", [])] == [trace_id]
    assert found["data"][0]["spans"][0]["operationName"] == "stack-smoke"
