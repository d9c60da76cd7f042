"""JSON logs with saga ids and trace ids, spans with saga attributes, trace context across Kafka,
and the /health, /ready and /metrics endpoints."""

from __future__ import annotations

import io
import json
import logging

import httpx
import pytest
from sagaline.contracts.job import MemoryIdempotencyStore, TransientError
from sagaline.contracts.job.health import health_routes
from sagaline.contracts.job.telemetry import JsonFormatter
from sagaline.contracts.templates.payment_gateway import ChargePayment

pytestmark = pytest.mark.unit

CARD_TOKEN = "tok_live_4242424242424242"
SIGNING_SECRET_FRAGMENT = "0123456789abcdef0123"  # part of the unit tests' signing key


@pytest.fixture
def json_lines():
    """JSON lines written by the 'sagaline' loggers during the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter("unit"))
    logger = logging.getLogger("sagaline")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(previous)


def charge(token: str = CARD_TOKEN) -> ChargePayment:
    return ChargePayment(order_id="ord-9", amount_cents=500, card_token=token)


async def test_log_lines_carry_saga_id_step_and_trace_id(rig, json_lines):
    command = rig.command(charge(), step="charge_payment")
    await rig.send(command)

    [answered] = [line for line in json_lines() if "PaymentCharged" in line["message"]]
    assert answered["saga_id"] == command.saga_id
    assert answered["step"] == "charge_payment"
    assert answered["service"] == "unit"
    assert len(answered["trace_id"]) == 32
    [job_span] = [s for s in rig.spans.get_finished_spans() if s.name.endswith("commands process")]
    assert answered["trace_id"] == format(job_span.context.trace_id, "032x")


async def test_card_tokens_never_reach_the_logs(rig, json_lines):
    await rig.send(rig.command(charge()))
    invalid = {"order_id": "o", "amount_cents": "x", "card_token": CARD_TOKEN}
    await rig.send(rig.command(charge(), payload=invalid))
    rig.spy.fail("charge", *(ValueError(f"cannot charge {CARD_TOKEN[:3]}") for _ in range(3)))
    await rig.send(rig.command(charge()))

    lines = json_lines()
    assert len(lines) >= 3
    assert CARD_TOKEN not in json.dumps(lines)
    assert SIGNING_SECRET_FRAGMENT not in json.dumps(lines)


def command_span(rig):
    [span] = [s for s in rig.spans.get_finished_spans() if s.name == f"{rig.app.topics.commands} process"]
    return span


async def test_the_command_span_carries_saga_id_step_attempt_provider_and_workflow(rig):
    command = rig.command(charge(), step="charge_payment", attempt=2, workflow="order_processing")
    await rig.send(command)

    span = command_span(rig)
    assert {k: span.attributes[k] for k in ("saga_id", "step", "attempt", "provider", "workflow")} == {
        "saga_id": command.saga_id,
        "step": "charge_payment",
        "attempt": 2,
        "provider": "fakepay",
        "workflow": "order_processing",
    }
    assert span.attributes["sagaline.operation"] == "payment_gateway.charge"
    assert span.attributes["sagaline.outcome"] == "success"
    # The reply's producer span hangs under the command span, so the saga's trace continues.
    [reply] = [s for s in rig.spans.get_finished_spans() if s.name == f"{rig.app.topics.events} create"]
    assert reply.parent.span_id == span.context.span_id


async def test_failed_provider_calls_are_events_on_the_command_span(rig):
    rig.spy.fail("charge", TransientError("gateway 503"))
    await rig.send(rig.command(charge()))

    span = command_span(rig)
    [event] = span.events
    assert event.name == "provider call failed"
    assert dict(event.attributes) == {"call_attempt": 1, "error": "gateway 503"}
    assert span.attributes["sagaline.outcome"] == "success"


async def test_trace_context_travels_from_the_command_to_the_reply_in_kafka_headers(rig):
    tracer = rig.app.tracer_provider.get_tracer("coordinator")
    with tracer.start_as_current_span("saga order_processing") as root:
        await rig.send(rig.command(charge()))
    trace_id = format(root.get_span_context().trace_id, "032x")

    [reply] = rig.replies
    _version, reply_trace_id, _parent, _flags = reply.headers["traceparent"].split("-")
    assert reply_trace_id == trace_id
    assert format(command_span(rig).context.trace_id, "032x") == trace_id


async def test_a_dead_letter_span_is_marked_as_an_error_with_its_reason(rig):
    await rig.send(b"garbage", key=b"x")

    [consume_span] = [s for s in rig.spans.get_finished_spans() if s.name.endswith("commands process")]
    assert consume_span.attributes["sagaline.dlq_reason"] == "undecodable"
    assert not consume_span.status.is_ok


def client(rig) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=rig.app.asgi), base_url="http://job")


async def test_health_answers_while_the_process_runs(rig):
    async with client(rig) as http:
        response = await http.get("/health")

    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_ready_reports_each_dependency_and_fails_while_draining(rig):
    async with client(rig) as http:
        ready = await http.get("/ready")
        await rig.app.lifecycle.drain(grace_seconds=1.0)
        draining = await http.get("/ready")

    assert (ready.status_code, ready.json()) == (200, {"consuming": True, "kafka": True, "redis": True})
    assert draining.status_code == 503
    assert draining.json()["consuming"] is False


async def test_ready_fails_when_redis_does_not_answer(rig):
    class Down(MemoryIdempotencyStore):
        async def ping(self) -> bool:
            return False

    routes = dict(health_routes(rig.app.broker, Down(), rig.app.lifecycle, rig.app.metrics))
    transport = httpx.ASGITransport(app=routes["/ready"])
    async with httpx.AsyncClient(transport=transport, base_url="http://job") as http:
        response = await http.get("/ready")

    assert response.status_code == 503
    assert response.json()["redis"] is False


async def test_metrics_expose_answers_and_dead_letters_in_prometheus_format(rig):
    await rig.send(rig.command(charge()))
    await rig.send(b"garbage", key=b"x")

    async with client(rig) as http:
        text = (await http.get("/metrics")).text

    answered = 'job="fake_payment_job",operation="charge",outcome="success",replayed="false"} 1.0'
    assert f"sagaline_job_commands_total{{{answered}" in text
    assert 'sagaline_job_dead_letters_total{job="fake_payment_job",reason="undecodable"} 1.0' in text
    assert "faststream_received_messages_total" in text
