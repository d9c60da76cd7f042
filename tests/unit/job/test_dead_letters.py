"""Bad input of every kind goes to the DLQ as it came, counted, and the job keeps consuming."""

from __future__ import annotations

import pytest
from aiokafka import ConsumerRecord
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.parser import AioKafkaParser
from sagaline.contracts.job.kafka import tolerant_parser
from sagaline.contracts.templates.payment_gateway import ChargePayment, PaymentCharged
from sagaline.contracts.testing import BAD_INPUTS

pytestmark = pytest.mark.unit

VALID = ChargePayment(order_id="ord-1", amount_cents=100, card_token="tok_secret_4242")


def dlq_count(rig, reason: str) -> float:
    value = rig.app.metrics.registry.get_sample_value(
        "sagaline_job_dead_letters_total", {"job": "fake_payment_job", "reason": reason}
    )
    return value or 0.0


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: bad.name)
async def test_when_input_is_bad_it_is_dead_lettered_and_the_next_command_is_handled(rig, bad):
    raw = bad.build(rig.job.template, VALID, rig.app.settings.key_ring())

    await rig.send(raw, key=b"poison-key")
    await rig.send(rig.command(VALID))

    [letter] = rig.dead_letters
    assert letter.body == raw
    assert letter.key == b"poison-key"
    assert letter.headers["x-sagaline-reason"] == bad.reason.value
    assert letter.headers["x-sagaline-source-topic"] == rig.app.topics.commands
    assert letter.headers["x-sagaline-source-partition"] == "0"
    assert letter.headers["x-sagaline-source-offset"].isdigit()
    assert letter.headers["x-sagaline-job"] == "fake_payment_job"
    assert dlq_count(rig, bad.reason.value) == 1
    assert [r.message_type for r in rig.reply_envelopes()] == [PaymentCharged.message_type]
    assert rig.spy.calls("charge") == 1


async def test_a_schema_invalid_payload_is_described_by_field_without_echoing_its_values(rig):
    payload = {"order_id": "ord-1", "amount_cents": -5, "card_token": "tok_secret_4242"}
    env = rig.command(VALID, payload=payload)
    await rig.send(env)

    [letter] = rig.dead_letters
    assert letter.headers["x-sagaline-reason"] == "invalid_payload"
    assert "amount_cents" in letter.headers["x-sagaline-detail"]
    assert "tok_secret_4242" not in str(letter.headers)


async def test_header_values_that_are_not_utf8_do_not_stop_parsing():
    record = ConsumerRecord(
        topic="t",
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=b"body",
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=4,
        headers=(("x-latin1", b"caf\xe9"), ("x-null", None), ("traceparent", b"00-abc")),
    )
    parser = AioKafkaParser(msg_class=KafkaAckableMessage, regex=None)

    message = await tolerant_parser(record, parser.parse_message)

    assert message.body == b"body"
    assert message.headers == {"x-latin1": "caf\ufffd", "x-null": "", "traceparent": "00-abc"}
