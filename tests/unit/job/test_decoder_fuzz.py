"""Fuzzing the decoder: random bytes and mutated valid envelopes never raise out of the handler, and
every input ends either as a reply or as a dead letter (exactly one of the two)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sagaline.contracts.envelope import Envelope
from sagaline.contracts.templates.payment_gateway import ChargePayment, RefundPayment

pytestmark = pytest.mark.unit

# The rig is shared by the examples of one test on purpose (building it per example would dominate
# the run); every example checks only what it added.
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = list(Envelope.model_fields)


def valid_template(rig) -> dict[str, Any]:
    command = ChargePayment(order_id="ord-fuzz", amount_cents=100, card_token="tok")
    return json.loads(rig.command(command).to_bytes())


async def send_and_classify(rig, raw: bytes) -> None:
    replies, letters = len(rig.replies), len(rig.dead_letters)

    await rig.send(raw, key=b"fuzz")  # raises if anything escaped the handler

    added = (len(rig.replies) - replies, len(rig.dead_letters) - letters)
    assert added in {(1, 0), (0, 1)}, f"input produced {added} (replies, dead letters)"


def resign(rig, doc: dict[str, Any]) -> bytes:
    """Sign a mutated document when it is still an envelope, so the mutation reaches deeper checks."""
    raw = json.dumps(doc).encode()
    try:
        return rig.app.settings.key_ring().sign(Envelope.from_bytes(raw)).to_bytes()
    except ValidationError:
        return raw


@FUZZ
@given(raw=st.binary(max_size=512))
async def test_random_bytes_are_dead_lettered_without_escaping_the_handler(rig, raw):
    await send_and_classify(rig, raw)


@FUZZ
@given(data=st.data())
async def test_byte_level_mutations_of_a_valid_envelope_end_as_reply_or_dead_letter(rig, data):
    raw = bytearray(json.dumps(valid_template(rig)).encode())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if action == "flip":
            raw[position] ^= data.draw(st.integers(1, 255))
        elif action == "delete":
            del raw[position]
        else:
            raw.insert(position, data.draw(st.integers(0, 255)))
    await send_and_classify(rig, bytes(raw))


@FUZZ
@given(
    field=st.sampled_from(FIELDS),
    value=json_values,
    drop=st.booleans(),
    sign=st.booleans(),
)
async def test_field_mutations_of_a_valid_envelope_end_as_reply_or_dead_letter(rig, field, value, drop, sign):
    doc = valid_template(rig)
    if drop:
        doc.pop(field, None)
    else:
        doc[field] = value
    raw = resign(rig, doc) if sign else json.dumps(doc).encode()
    await send_and_classify(rig, raw)


@FUZZ
@given(
    command=st.sampled_from([ChargePayment, RefundPayment]),
    payload=st.dictionaries(
        st.sampled_from(["order_id", "amount_cents", "currency", "card_token", "charge_id", "extra"]),
        json_values | st.integers(-5, 10_000) | st.sampled_from(["USD", "EUR", "XXX"]),
        max_size=6,
    ),
)
async def test_signed_commands_with_arbitrary_payloads_end_as_reply_or_dead_letter(rig, command, payload):
    doc = valid_template(rig)
    doc.update(message_type=command.message_type, payload=payload)
    await send_and_classify(rig, resign(rig, doc))
