"""``sagaline-coordinator`` as a process: JSON logs, the API on its port, a clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_on_sigterm_the_coordinator_stops_gracefully_and_exits_0(launch, order):
    running = launch()
    token = {"Authorization": f"Bearer {running.token}"}
    body = {"workflow": "order_processing_workflow", "idempotency_key": "k-process", "data": order}
    with httpx.Client(base_url=running.url, headers=token, timeout=10) as client:
        assert client.post("/sagas", json=body).status_code == 201

    assert running.stop() == 0
    lines = running.log_lines()
    records = [json.loads(line) for line in lines]  # every line is a JSON object
    messages = [r["message"] for r in records]
    assert "coordinator started" in messages
    assert messages.index("coordinator stopped") < messages.index("stopped on SIGTERM")
    assert all(r["service"] == "sagaline-coordinator" for r in records)
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL")]


def test_without_required_settings_it_exits_naming_the_variables_and_no_secret():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGALINE_")}
    env["SAGALINE_REDIS_URL"] = "redis://:hunter2-secret@127.0.0.1:6379/0"
    done = subprocess.run(
        [sys.executable, "-m", "sagaline.saga"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "SAGALINE_SIGNING_KEYS: Field required" in done.stderr
    assert "SAGALINE_API_TOKEN: Field required" in done.stderr
    assert "hunter2" not in done.stderr
