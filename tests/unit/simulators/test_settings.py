"""Simulator settings: the decision rules, and the environment that gives a process the same settings."""

from __future__ import annotations

import pytest
from sagaline.simulators import CarrierSimulatorSettings, PaymentSimulatorSettings
from sagaline.simulators.testing import settings_env

pytestmark = pytest.mark.unit

KEYS = "unit:0123456789abcdef0123"


class PaySettings(PaymentSimulatorSettings):
    job_name: str = "payment_gateway_unit_job"
    provider: str = "unit"


def test_the_issuer_declines_listed_tokens_and_amounts_over_the_limit():
    settings = PaySettings(signing_keys=KEYS, sim_insufficient_funds_above_cents=5000)
    assert settings.issuer_decline("tok_declined", 100) == "card_declined"
    assert settings.issuer_decline("tok_visa", 5001) == "insufficient_funds"
    assert settings.issuer_decline("tok_visa", 5000) is None


def test_the_carrier_refuses_unserved_countries_and_undeliverable_postal_codes():
    settings = CarrierSimulatorSettings(job_name="shipping_unit_job", provider="unit", signing_keys=KEYS)
    assert settings.undeliverable("AQ", "12345") == "country AQ is not served"
    assert settings.undeliverable("US", "00000") == "postal code 00000 is not deliverable"
    assert settings.undeliverable("US", "10001") is None


def test_settings_env_gives_a_process_exactly_the_same_settings(monkeypatch):
    settings = PaySettings(
        signing_keys=KEYS,
        redis_url="redis://:secret@127.0.0.1:6379/3",
        sim_decline_tokens=("tok_a", "tok_b"),
        sim_latency_seconds=0.25,
        declare_topics=False,
        retry={"charge": {"max_attempts": 2}},
    )
    env = settings_env(settings)
    assert env["SAGALINE_SIGNING_KEYS"] == KEYS
    assert "SAGALINE_CONSUMER_GROUP" not in env
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert PaySettings() == settings
