"""What a provider hook knows about the command it is handling, besides the command itself."""

from __future__ import annotations

import logging
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobContext:
    """Per-command context passed to every hook.

    Pass ``idempotency_key`` to the provider's own idempotency mechanism (Stripe's
    ``Idempotency-Key`` header, a unique constraint...): it is stable across redeliveries and
    coordinator retries, so a provider call repeated after a crash is still recognised.
    ``call_attempt`` counts the runtime's own retries of this hook (1-based) for this delivery.
    """

    saga_id: str
    step: str
    attempt: int
    idempotency_key: str
    workflow: str
    workflow_version: str
    message_id: str
    provider: str
    operation: str
    call_attempt: int
    log: logging.Logger
