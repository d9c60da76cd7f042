import json

import pytest
from sagaline.contracts import Envelope, KeyRing, Kind, SignatureError

pytestmark = pytest.mark.unit

OLD_KEY = b"old-secret-0123456789"
NEW_KEY = b"new-secret-9876543210"


def make_envelope(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "message_type": "payment_gateway.ChargePayment",
        "saga_id": "saga-1",
        "kind": Kind.COMMAND,
        "contract": "payment_gateway@1.0.0",
        "idempotency_key": "saga-1:charge_payment",
        "step": "charge_payment",
        "payload": {"order_id": "ord-1", "amount_cents": 2599, "card_token": "tok_visa"},
    }
    fields.update(overrides)
    return Envelope.model_validate(fields)


def test_canonical_bytes_are_sorted_compact_json_without_the_signature() -> None:
    signed = KeyRing({"k1": OLD_KEY}, "k1").sign(make_envelope())
    raw = signed.canonical_bytes()
    body = json.loads(raw)
    assert "signature" not in body
    assert body["key_id"] == "k1"
    assert list(body) == sorted(body)
    assert b", " not in raw
    assert b": " not in raw
    assert signed.model_copy(update={"signature": "x"}).canonical_bytes() == raw


def test_canonical_bytes_survive_a_wire_round_trip() -> None:
    envelope = make_envelope(payload={"name": "Zoë", "nested": {"b": 1, "a": [1, 2]}})
    assert Envelope.from_bytes(envelope.to_bytes()).canonical_bytes() == envelope.canonical_bytes()


def test_signed_envelope_verifies_after_the_wire_round_trip() -> None:
    ring = KeyRing({"k1": OLD_KEY}, "k1")
    signed = ring.sign(make_envelope())
    ring.verify(Envelope.from_bytes(signed.to_bytes()))


@pytest.mark.parametrize(
    "tamper",
    [
        {"payload": {"order_id": "ord-1", "amount_cents": 1, "card_token": "tok_visa"}},
        {"saga_id": "saga-2"},
        {"attempt": 2},
        {"contract": "payment_gateway@2.0.0"},
        {"message_type": "payment_gateway.RefundPayment"},
    ],
    ids=["payload", "saga_id", "attempt", "contract", "message_type"],
)
def test_when_any_signed_field_is_changed_verification_fails(tamper: dict[str, object]) -> None:
    ring = KeyRing({"k1": OLD_KEY}, "k1")
    tampered = ring.sign(make_envelope()).model_copy(update=tamper)
    with pytest.raises(SignatureError, match="bad signature"):
        ring.verify(tampered)


def test_when_wire_bytes_are_edited_verification_fails() -> None:
    ring = KeyRing({"k1": OLD_KEY}, "k1")
    raw = ring.sign(make_envelope()).to_bytes().replace(b"2599", b"2598")
    with pytest.raises(SignatureError, match="bad signature"):
        ring.verify(Envelope.from_bytes(raw))


def test_unsigned_envelope_is_rejected() -> None:
    with pytest.raises(SignatureError, match="missing signature"):
        KeyRing({"k1": OLD_KEY}, "k1").verify(make_envelope())


def test_envelope_signed_with_an_unknown_key_id_is_rejected() -> None:
    signed = KeyRing({"other": NEW_KEY}, "other").sign(make_envelope())
    with pytest.raises(SignatureError, match="unknown signing key id 'other'"):
        KeyRing({"k1": OLD_KEY}, "k1").verify(signed)


def test_same_key_id_with_a_different_secret_is_rejected() -> None:
    signed = KeyRing({"k1": NEW_KEY}, "k1").sign(make_envelope())
    with pytest.raises(SignatureError, match="bad signature"):
        KeyRing({"k1": OLD_KEY}, "k1").verify(signed)


def test_when_active_key_rotates_messages_signed_with_the_old_key_still_verify() -> None:
    before = KeyRing({"k1": OLD_KEY}, "k1")
    in_flight = before.sign(make_envelope())

    after = KeyRing({"k1": OLD_KEY, "k2": NEW_KEY}, "k2")
    after.verify(in_flight)
    fresh = after.sign(make_envelope())
    assert fresh.key_id == "k2"
    after.verify(fresh)
    # A verifier that was not given the new key yet rejects it by id, not as tampering.
    with pytest.raises(SignatureError, match="unknown signing key id 'k2'"):
        before.verify(fresh)


def test_resigning_replaces_key_id_and_signature() -> None:
    ring = KeyRing({"k1": OLD_KEY, "k2": NEW_KEY}, "k1")
    first = ring.sign(make_envelope())
    ring.active = "k2"
    second = ring.sign(first)
    assert second.key_id == "k2"
    assert second.signature != first.signature
    ring.verify(second)


def test_key_spec_parses_ids_and_secrets_and_picks_the_first_as_active() -> None:
    ring = KeyRing.from_spec(f"k2:{NEW_KEY.decode()}, k1:{OLD_KEY.decode()}")
    assert ring.active == "k2"
    ring.verify(KeyRing({"k1": OLD_KEY}, "k1").sign(make_envelope()))
    assert KeyRing.from_spec(f"k2:{NEW_KEY.decode()},k1:{OLD_KEY.decode()}", active="k1").active == "k1"


@pytest.mark.parametrize("spec", ["", "no-colon", "k1:" + "a" * 20 + ",broken"])
def test_malformed_key_spec_is_a_clear_error(spec: str) -> None:
    with pytest.raises(ValueError, match="key spec must look like"):
        KeyRing.from_spec(spec)


def test_short_keys_and_unknown_active_id_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        KeyRing({"k1": b"short"}, "k1")
    with pytest.raises(ValueError, match="active key id 'k9'"):
        KeyRing({"k1": OLD_KEY}, "k9")


def test_key_ring_repr_never_shows_secrets() -> None:
    text = repr(KeyRing({"k1": OLD_KEY, "k2": NEW_KEY}, "k2"))
    assert OLD_KEY.decode() not in text
    assert NEW_KEY.decode() not in text
    assert "k1" in text


@pytest.mark.parametrize("contract", ["payment_gateway", "payment_gateway@1.0", "Payment@1.0.0"])
def test_envelope_refuses_a_malformed_contract(contract: str) -> None:
    with pytest.raises(ValueError, match="contract"):
        make_envelope(contract=contract)


def test_envelope_splits_contract_into_template_and_version() -> None:
    envelope = make_envelope(contract="inventory@1.4.2")
    assert (envelope.template_name, envelope.contract_version) == ("inventory", "1.4.2")
