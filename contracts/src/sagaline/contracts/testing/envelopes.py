"""Commands as a coordinator would send them, and every kind of bad input a job must dead-letter."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sagaline.contracts.envelope import Envelope, Kind
from sagaline.contracts.job.dlq import DlqReason
from sagaline.contracts.messages import Command
from sagaline.contracts.signing import KeyRing
from sagaline.contracts.template import Template


def command_envelope(
    template: Template,
    command: Command,
    key_ring: KeyRing | None,
    **fields: Any,
) -> Envelope:
    """A command envelope for ``template`` carrying ``command``, signed with ``key_ring`` if given.

    ``fields`` override envelope fields (``saga_id``, ``idempotency_key``, ``attempt``, ...); ids
    default to fresh uuids so every call is a new saga step.
    """
    values: dict[str, Any] = {
        "message_type": command.message_type,
        "saga_id": f"saga-{uuid.uuid4()}",
        "workflow": "conformance",
        "workflow_version": "1.0.0",
        "step": "step-under-test",
        "attempt": 1,
        "kind": Kind.COMMAND,
        "contract": template.contract,
        "idempotency_key": f"idem-{uuid.uuid4()}",
        "payload": command.model_dump(mode="json"),
    }
    values.update(fields)
    envelope = Envelope(**values)
    return key_ring.sign(envelope) if key_ring is not None else envelope


@dataclass(frozen=True)
class BadInput:
    """A record a job must send to the DLQ with ``reason``, and keep consuming."""

    name: str
    reason: DlqReason
    build: Callable[[Template, Command, KeyRing], bytes]


def _unsigned(template: Template, command: Command, ring: KeyRing) -> bytes:
    return command_envelope(template, command, None).to_bytes()


def _forged(template: Template, command: Command, ring: KeyRing) -> bytes:
    signed = command_envelope(template, command, ring)
    return signed.model_copy(update={"saga_id": signed.saga_id + "-tampered"}).to_bytes()


def _unknown_key(template: Template, command: Command, ring: KeyRing) -> bytes:
    stranger = KeyRing({"not-a-known-key": uuid.uuid4().hex.encode()}, "not-a-known-key")
    return command_envelope(template, command, stranger).to_bytes()


def _invalid_payload(template: Template, command: Command, ring: KeyRing) -> bytes:
    return command_envelope(template, command, ring, payload={}).to_bytes()


def _unknown_type(template: Template, command: Command, ring: KeyRing) -> bytes:
    return command_envelope(template, command, ring, message_type=f"{template.name}.NoSuchCommand").to_bytes()


def _next_major(template: Template, command: Command, ring: KeyRing) -> bytes:
    contract = f"{template.name}@{template.major + 1}.0.0"
    return command_envelope(template, command, ring, contract=contract).to_bytes()


def _other_template(template: Template, command: Command, ring: KeyRing) -> bytes:
    other = "zz_other_template" if template.name != "zz_other_template" else "yy_other_template"
    return command_envelope(template, command, ring, contract=f"{other}@{template.version}").to_bytes()


def _event(template: Template, command: Command, ring: KeyRing) -> bytes:
    return command_envelope(template, command, ring, kind=Kind.EVENT).to_bytes()


BAD_INPUTS: tuple[BadInput, ...] = (
    BadInput("undecodable_bytes", DlqReason.UNDECODABLE, lambda t, c, r: b"\x00\xff\xfe not json"),
    BadInput("json_but_not_an_envelope", DlqReason.UNDECODABLE, lambda t, c, r: b'{"hello": "world"}'),
    BadInput("unsigned", DlqReason.BAD_SIGNATURE, _unsigned),
    BadInput("forged_signature", DlqReason.BAD_SIGNATURE, _forged),
    BadInput("unknown_signing_key", DlqReason.BAD_SIGNATURE, _unknown_key),
    BadInput("schema_invalid_payload", DlqReason.INVALID_PAYLOAD, _invalid_payload),
    BadInput("unknown_message_type", DlqReason.UNKNOWN_MESSAGE_TYPE, _unknown_type),
    BadInput("unknown_contract_major", DlqReason.UNSUPPORTED_VERSION, _next_major),
    BadInput("another_templates_contract", DlqReason.WRONG_TEMPLATE, _other_template),
    BadInput("an_event_not_a_command", DlqReason.NOT_A_COMMAND, _event),
)
"""Every kind of bad input, by name (pytest ids) with the DLQ reason it must get."""
