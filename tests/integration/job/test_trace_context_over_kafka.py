"""Trace context crosses the real Kafka: the command's traceparent continues into the job and its reply."""

from __future__ import annotations

import pytest
from fake_payment_job import FakePaymentJob, FakePaymentSettings
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import set_span_in_context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sagaline.contracts.job import make_tracer_provider
from sagaline.contracts.templates.payment_gateway import ChargePayment
from sagaline.contracts.testing import JobHarness, delete_keys, kit_settings

pytestmark = pytest.mark.integration


async def test_the_job_continues_the_senders_trace_and_passes_it_on_to_the_reply(infra):
    spans = InMemorySpanExporter()
    settings = kit_settings(
        FakePaymentSettings,
        kafka_bootstrap=infra.kafka_bootstrap,
        redis_url=infra.redis_url,
        operations=["charge", "refund"],
    )
    coordinator = TracerProvider().get_tracer("coordinator")
    job_tracing = make_tracer_provider(settings.job_name, processors=[SimpleSpanProcessor(spans)])
    try:
        async with JobHarness.running(FakePaymentJob(settings), tracer_provider=job_tracing) as harness:
            command = harness.command(
                ChargePayment(order_id="ord-trace", amount_cents=100, card_token="tok"), step="charge_payment"
            )
            with coordinator.start_as_current_span("saga order_processing") as root:
                carrier: dict[str, str] = {}
                TraceContextTextMapPropagator().inject(carrier, set_span_in_context(root))
            headers = [(name, value.encode()) for name, value in carrier.items()]
            await harness.send(command, headers=headers)
            [reply] = await harness.replies(command.saga_id)
    finally:
        await delete_keys(infra.redis_url, settings.redis_prefix)

    trace_id = format(root.get_span_context().trace_id, "032x")
    traceparents = [value.decode() for name, value in reply.headers if name == "traceparent"]
    assert len(traceparents) == 1, f"expected one traceparent header, got {traceparents}"
    assert traceparents[0].split("-")[1] == trace_id
    [consumed] = [s for s in spans.get_finished_spans() if s.name == f"{harness.app.topics.commands} process"]
    assert consumed.parent.span_id == root.get_span_context().span_id
    assert consumed.attributes["saga_id"] == command.saga_id
    assert consumed.attributes["step"] == "charge_payment"
    assert consumed.attributes["provider"] == "fakepay"
