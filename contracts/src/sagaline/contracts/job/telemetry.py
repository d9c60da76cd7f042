"""Tracing and logging set-up shared by every Sagaline process (jobs now, the coordinator later).

Logs are JSON lines. Each line carries the ``saga_id`` and ``step`` bound with ``log_context`` and
the ``trace_id``/``span_id`` of the current OpenTelemetry span, so a log line leads to its trace.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_fields: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "sagaline_log_fields", default=None
)

# Attributes every LogRecord has; anything else on a record came from ``extra=`` and is logged
# (except uvicorn's terminal-coloured duplicate of the message).
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (saga_id, step, ...) to every log line written inside the block."""
    token = _fields.set({**(_fields.get() or {}), **fields})
    try:
        yield
    finally:
        _fields.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, bound fields, trace ids, extras."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self._service,
        }
        line.update(_fields.get() or {})
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            line["trace_id"] = format(span_context.trace_id, "032x")
            line["span_id"] = format(span_context.span_id, "016x")
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line:
                line[key] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(level: str | int = "INFO", *, service: str) -> None:
    """Send every logger's records to stderr as JSON lines (replaces the root handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)


def make_tracer_provider(
    service_name: str,
    otlp_endpoint: str | None = None,
    *,
    processors: Iterable[SpanProcessor] = (),
) -> TracerProvider:
    """A tracer provider for one service, exporting over OTLP gRPC when an endpoint is given.

    It is not installed globally: the caller hands it to whatever creates spans, so several
    services can live in one test process without fighting over the global provider.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        exporter = OTLPSpanExporter(endpoint=otlp_endpoint, insecure=otlp_endpoint.startswith("http://"))
        provider.add_span_processor(BatchSpanProcessor(exporter))
    for processor in processors:
        provider.add_span_processor(processor)
    return provider
