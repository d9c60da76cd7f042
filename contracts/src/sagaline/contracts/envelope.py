"""The one envelope every Sagaline message travels in.

Wire form is JSON. The signature is HMAC-SHA256 over the canonical bytes of every field except
``signature`` itself (sorted keys, no whitespace, UTF-8), so any byte-level change to ids, routing
or payload is detected. Trace context is *not* in the envelope: it travels in Kafka headers.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Kind(StrEnum):
    COMMAND = "command"
    EVENT = "event"


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return str(uuid.uuid4())


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str = Field(default_factory=_new_id, description="Unique per message (uuid4).")
    message_type: str = Field(
        description="Explicit wire name of the payload, e.g. payment_gateway.ChargePayment."
    )
    saga_id: str = Field(min_length=1, description="Saga instance id; also the Kafka key.")
    workflow: str = Field(default="", description="Workflow name the saga runs.")
    workflow_version: str = Field(default="", description="Semver of that workflow definition.")
    step: str = Field(default="", description="Saga step this message belongs to.")
    attempt: int = Field(default=1, ge=1, description="Attempt number of the step (1-based).")
    kind: Kind
    contract: str = Field(pattern=r"^[a-z][a-z0-9_]*@\d+\.\d+\.\d+$", description="template@semver")
    provider: str = Field(default="", description="Derived job that handles (command) or handled (event) it.")
    idempotency_key: str = Field(min_length=1, description="Stable across retries of one step.")
    causation_id: str | None = Field(default=None, description="message_id this message answers.")
    occurred_at: datetime = Field(default_factory=_now)
    payload: dict[str, Any] = Field(default_factory=dict)
    key_id: str = Field(default="", description="Id of the signing key.")
    signature: str = Field(default="", description="Hex HMAC-SHA256 over canonical bytes.")

    @property
    def template_name(self) -> str:
        return self.contract.partition("@")[0]

    @property
    def contract_version(self) -> str:
        return self.contract.partition("@")[2]

    def canonical_bytes(self) -> bytes:
        body = self.model_dump(mode="json", exclude={"signature"})
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse wire bytes; raises ``pydantic.ValidationError`` on anything malformed."""
        return cls.model_validate_json(raw)
