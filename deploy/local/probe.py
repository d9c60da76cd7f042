"""Health probes for the local stack, used by stack.sh: one real client request per component.

Usage: probe.py kafka|redis|jaeger|smtp [--timeout SECONDS]. Exit 0 when the component answers a real
request (Kafka: cluster metadata; Redis: PING; Jaeger: health endpoint and the query API; SMTP: NOOP).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import urllib.request


async def _kafka(limit: float) -> str:
    from aiokafka.admin import AIOKafkaAdminClient

    bootstrap = os.environ.get("SAGALINE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(limit * 1000))
    try:
        await asyncio.wait_for(admin.start(), limit)
        cluster = await asyncio.wait_for(admin.describe_cluster(), limit)
        return f"cluster {cluster['cluster_id']} with {len(cluster['brokers'])} broker(s)"
    finally:
        await admin.close()


async def _redis(limit: float) -> str:
    import redis.asyncio as aioredis

    client = aioredis.from_url(
        os.environ.get("SAGALINE_REDIS_URL", "redis://127.0.0.1:6379/0"), socket_timeout=limit
    )
    try:
        await client.ping()
        info = await client.info("server")
        return f"redis {info['redis_version']}"
    finally:
        await client.aclose()


def _jaeger(timeout: float) -> str:
    query = os.environ.get("SAGALINE_JAEGER_QUERY", "http://127.0.0.1:16686")
    health = os.environ.get("SAGALINE_JAEGER_HEALTH", "http://127.0.0.1:13133/status")
    with urllib.request.urlopen(health, timeout=timeout) as resp:
        if resp.status != 200:
            raise RuntimeError(f"health endpoint answered {resp.status}")
    with urllib.request.urlopen(f"{query}/api/services", timeout=timeout) as resp:
        if resp.status != 200:
            raise RuntimeError(f"query API answered {resp.status}")
    return "jaeger query API answering"


def _smtp(timeout: float) -> str:
    import smtplib

    port = int(os.environ.get("SAGALINE_SMTP_PORT", "8025"))
    with smtplib.SMTP("127.0.0.1", port, timeout=timeout) as client:
        code, _ = client.noop()
        if code != 250:
            raise RuntimeError(f"NOOP answered {code}")
    return f"smtp sink answering on {port}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("component", choices=["kafka", "redis", "jaeger", "smtp"])
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args()
    try:
        if args.component == "kafka":
            detail = asyncio.run(_kafka(args.timeout))
        elif args.component == "redis":
            detail = asyncio.run(_redis(args.timeout))
        elif args.component == "smtp":
            detail = _smtp(args.timeout)
        else:
            detail = _jaeger(args.timeout)
    except Exception as exc:  # a probe reports any failure as "not ready", with the reason
        print(f"{args.component}: not ready: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.component}: {detail}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
