"""The main job, ``make demo``, as a user runs it: a real process that must exit 0, twice in a row."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DEMO_ARGS = ("--orders", "40", "--concurrency", "8", "--outage-seconds", "1")


def _demo(infra) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SAGALINE_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "SAGALINE_REDIS_URL": infra.redis_url,
        "SAGALINE_OTLP_ENDPOINT": infra.otlp_endpoint,
        "SAGALINE_JAEGER_QUERY": infra.jaeger_query,
        "SAGALINE_SMTP_PORT": str(infra.smtp_port),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "sagaline_demo", *DEMO_ARGS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_order_demo_passes_every_check_and_can_run_again(infra):
    for run in ("first", "second"):
        result = _demo(infra)
        assert result.returncode == 0, f"{run} run failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
        out = result.stdout
        assert "Sagas by final state" in out
        assert "stripe outage for 1s" in out
        assert "ledger: no double charge" in out
        assert "all checks hold" in out
        assert "http://127.0.0.1:16686/trace/" in out
