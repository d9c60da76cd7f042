"""A derived job as a real process: SIGTERM mid-stream, restart, and nothing is lost or done twice.

The example job counts its provider calls in a Redis ledger, so the test sees what the processes
did. It also reads /ready, /health and /metrics over HTTP, as Kubernetes and Prometheus would.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from redis.asyncio import Redis
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.signing import KeyRing
from sagaline.contracts.templates import payment_gateway
from sagaline.contracts.templates.payment_gateway import ChargePayment
from sagaline.contracts.testing import command_envelope, delete_keys, delete_topics, ensure_topics, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

JOB = Path(__file__).resolve().parents[2] / "support" / "fake_payment_job.py"
COMMANDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


class JobProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = int(env["SAGALINE_HTTP_PORT"])
        self._log = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, str(JOB)], env=env, stdout=self._log, stderr=self._log
        )

    async def ready(self, within: float = 60.0) -> None:
        await wait_until(
            lambda: self.process.poll() is None and http_get(self.port, "/ready")[0] == 200,
            within,
            "the job process to report ready",
        )

    def terminate(self, within: float = 60.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=within)
        finally:
            self._log.close()

    def kill(self) -> None:
        """Test clean-up after a failure: never leave a job process behind."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self._log.close()


async def test_sigterm_mid_stream_then_restart_handles_every_command_once(infra, tmp_path):
    run = uuid.uuid4().hex[:10]
    prefix, redis_prefix = f"it.sigterm.{run}.", f"it:sigterm:{run}:"
    keys = f"it-{run}:{secrets.token_hex(16)}"
    ledger = f"{redis_prefix}ledger"
    env = {
        **os.environ,
        "SAGALINE_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "SAGALINE_REDIS_URL": infra.redis_url,
        "SAGALINE_TOPIC_PREFIX": prefix,
        "SAGALINE_REDIS_PREFIX": redis_prefix,
        "SAGALINE_SIGNING_KEYS": keys,
        "SAGALINE_CONCURRENCY": "2",
        "SAGALINE_COMMAND_PARTITIONS": "2",
        "SAGALINE_HTTP_HOST": "127.0.0.1",
        "SAGALINE_HTTP_PORT": str(free_port()),
        "SAGALINE_OTLP_ENDPOINT": "",
        "SAGALINE_FAKE_LATENCY_SECONDS": "0.05",
        "SAGALINE_FAKE_LEDGER_KEY": ledger,
        "SAGALINE_SHUTDOWN_GRACE_SECONDS": "20",
    }
    commands_topic = f"{prefix}payment_gateway.v1.fakepay.commands"
    events_topic, dlq_topic = f"{prefix}payment_gateway.v1.events", f"{prefix}sagaline.dlq"
    await ensure_topics(infra.kafka_bootstrap, {commands_topic: 2, events_topic: 1, dlq_topic: 1})
    ring = KeyRing.from_spec(keys)
    sent = [
        command_envelope(
            payment_gateway.TEMPLATE,
            ChargePayment(order_id=f"o{i}", amount_cents=100 + i, card_token="tok"),
            ring,
        )
        for i in range(COMMANDS)
    ]
    replies: list[Envelope] = []
    consumer = AIOKafkaConsumer(
        events_topic, bootstrap_servers=infra.kafka_bootstrap, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    redis = Redis.from_url(infra.redis_url)
    log = tmp_path / "job.log"

    async def collect() -> None:
        async for record in consumer:
            replies.append(Envelope.from_bytes(record.value))

    await consumer.start()
    await producer.start()
    collector = asyncio.create_task(collect())
    processes: list[JobProcess] = []
    try:
        first = JobProcess(env, log)
        processes.append(first)
        await first.ready()
        status, body = http_get(first.port, "/health")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        for env_ in sent:
            await producer.send_and_wait(commands_topic, env_.to_bytes(), key=env_.saga_id.encode())
        await producer.send_and_wait(commands_topic, b"poison", key=b"poison")
        await wait_until(lambda: len(replies) >= COMMANDS // 4, 60, "a quarter of the replies")

        started = time.monotonic()
        assert first.terminate() == 0, log.read_text()[-3000:]
        stopped_after = time.monotonic() - started
        handled_by_first = len(replies)
        assert handled_by_first < COMMANDS, "the first process finished everything before SIGTERM"

        second = JobProcess(env, log)
        processes.append(second)
        await second.ready()
        await wait_until(lambda: len(replies) >= COMMANDS, 90, f"{COMMANDS} replies")
        status, metrics = http_get(second.port, "/metrics")
        assert second.terminate() == 0, log.read_text()[-3000:]

        by_command = Counter(reply.causation_id for reply in replies)
        assert by_command == Counter({env_.message_id: 1 for env_ in sent}), "each command: exactly one reply"
        calls = {k.decode(): int(v) for k, v in (await redis.hgetall(ledger)).items()}
        assert calls == {f"charge:{env_.idempotency_key}": 1 for env_ in sent}, (
            "each command: one provider call"
        )
        assert stopped_after < 20
        assert status == 200
        assert 'sagaline_job_commands_total{job="fake_payment_job"' in metrics
    finally:
        for process in processes:
            process.kill()
        collector.cancel()
        await consumer.stop()
        await producer.stop()
        await redis.aclose()
        await delete_keys(infra.redis_url, redis_prefix)
        await delete_topics(infra.kafka_bootstrap, [commands_topic, events_topic, dlq_topic])
