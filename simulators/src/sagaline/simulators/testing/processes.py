"""Derived jobs run as real processes, with the command their Dockerfile runs.

``restart_mid_stream`` is the scenario every job's tests run: start ``python -m <job>``, send a
stream of commands, stop the job with SIGTERM part-way, start it again, and return every reply, so
the test can check that nothing was lost or answered twice and the provider was called once per
command.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import SecretStr
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.job.topology import JobTopics
from sagaline.contracts.template import Template
from sagaline.contracts.testing import ensure_topics, wait_until

_POLL_SECONDS = 0.05


def settings_env(settings: JobSettings) -> dict[str, str]:
    """The ``SAGALINE_*`` environment from which a job process reads exactly these settings."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    dumped = settings.model_dump(mode="json")
    env: dict[str, str] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, str):
            text = value
        else:
            text = json.dumps(dumped[name])
        env[f"{prefix}{name}".upper()] = text
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class JobProcess:
    """``python -m <module>`` with ``settings`` in its environment and its log in ``log_path``.

    ``settings.http_port`` must be a fixed port (see ``free_port``): readiness is its ``/ready``.
    """

    def __init__(self, module: str, settings: JobSettings, log_path: Path) -> None:
        if settings.http_port == 0:
            raise ValueError("a job process needs a fixed http_port to be probed")
        self.module = module
        self.settings = settings
        self.log_path = log_path
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self, within: float = 60.0) -> None:
        # Nothing from the test's own SAGALINE_* environment leaks in: the settings say it all.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGALINE_")}
        env.update(settings_env(self.settings))
        with self.log_path.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.module, env=env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + within
        while await _http_status(self.settings.http_port, "/ready") != 200:
            if self._proc.returncode is not None:
                raise AssertionError(f"{self.module} exited with {self._proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.module} not ready within {within}s:\n{self.log_tail()}")
            await asyncio.sleep(_POLL_SECONDS * 2)

    async def terminate(self, within: float = 30.0) -> int:
        """SIGTERM, then the exit code (AssertionError if it does not exit in time)."""
        proc = self._running()
        proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(within):
                return await proc.wait()
        except TimeoutError:
            raise AssertionError(f"{self.module} ignored SIGTERM for {within}s:\n{self.log_tail()}") from None

    async def kill(self) -> None:
        if self._proc is not None and self._proc.returncode is None:
            self._proc.kill()
            await self._proc.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    def _running(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            raise RuntimeError(f"{self.module} is not running")
        return self._proc

    async def __aenter__(self) -> JobProcess:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.kill()


async def _http_status(port: int, path: str) -> int | None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    try:
        writer.write(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await writer.drain()
        status_line = await reader.readline()
    except OSError:
        return None
    finally:
        writer.close()
        with suppress(OSError):
            await writer.wait_closed()
    parts = status_line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


class TopicReader:
    """Reads every partition of a topic from the beginning, indexing records by Kafka key."""

    def __init__(self, bootstrap: str, topic: str, partitions: int) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._partitions = [TopicPartition(topic, p) for p in range(partitions)]
        self._next: dict[TopicPartition, int] = {}
        self.by_key: defaultdict[bytes, list[bytes]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.assign(self._partitions)
        await self._consumer.seek_to_beginning(*self._partitions)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=100)
            for tp, records in batches.items():
                for record in records:
                    self.by_key[record.key or b""].append(record.value or b"")
                    self._next[tp] = record.offset + 1

    async def read_to_end(self, within: float = 30.0) -> None:
        """Wait until everything on the topic now has been read."""
        ends = await self._consumer.end_offsets(self._partitions)
        await wait_until(
            lambda: all(self._next.get(tp, 0) >= end for tp, end in ends.items()), within, "the topic's end"
        )

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


@dataclass(frozen=True)
class RestartOutcome:
    replies: dict[str, list[Envelope]]
    """Every reply, by saga id, once both runs stopped."""
    replies_before_restart: int
    exit_codes: tuple[int, int]


async def restart_mid_stream(
    module: str,
    template: Template,
    settings: JobSettings,
    commands: Sequence[Envelope],
    *,
    log_path: Path,
    stop_after: int,
    within: float = 60.0,
) -> RestartOutcome:
    """Run ``python -m <module>``, send ``commands``, SIGTERM it after ``stop_after`` replies, start
    it again until every command has a reply, SIGTERM it again, and read back every reply."""
    topics = JobTopics.for_job(template, settings.provider, settings.topic_prefix)
    bootstrap = settings.kafka_bootstrap
    await ensure_topics(
        bootstrap, {topics.commands: settings.command_partitions, topics.events: 1, topics.dlq: 1}
    )
    reader = TopicReader(bootstrap, topics.events, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await reader.start()
    await producer.start()
    job = JobProcess(module, settings, log_path)
    saga_ids = {env.saga_id.encode() for env in commands}

    def answered() -> int:
        return sum(1 for key in saga_ids if reader.by_key.get(key))

    try:
        await job.start(within)
        for env in commands:
            await producer.send_and_wait(topics.commands, env.to_bytes(), key=env.saga_id.encode())
        await wait_until(lambda: answered() >= stop_after, within, f"{stop_after} replies")
        first_exit = await job.terminate()
        before_restart = answered()
        await job.start(within)
        await wait_until(
            lambda: answered() == len(saga_ids), within, f"replies to all {len(saga_ids)} commands"
        )
        second_exit = await job.terminate()
        await reader.read_to_end()
    finally:
        await job.kill()
        await producer.stop()
        await reader.stop()
    replies = {
        key.decode(): [Envelope.from_bytes(raw) for raw in reader.by_key.get(key, [])] for key in saga_ids
    }
    return RestartOutcome(replies, before_restart, (first_exit, second_exit))
