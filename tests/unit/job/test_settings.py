"""Settings come from SAGALINE_* variables; secrets never show up in a repr, a dump or an error."""

from __future__ import annotations

import json
import ssl

import pytest
from fake_payment_job import FakePaymentJob
from faststream.security import SASLScram512
from pydantic import ValidationError
from sagaline.contracts.job import JobSettings, MemoryIdempotencyStore, create_app
from sagaline.contracts.job.kafka import kafka_security

pytestmark = pytest.mark.unit

SECRET = "s3cret-signing-key-material"
REDIS_PASSWORD = "redis-pa55word"


@pytest.fixture
def env(monkeypatch):
    values = {
        "SAGALINE_JOB_NAME": "payment_gateway_stripe_job",
        "SAGALINE_PROVIDER": "stripe",
        "SAGALINE_SIGNING_KEYS": f"k2024:{SECRET},k2023:older-key-material-123",
        "SAGALINE_REDIS_URL": f"redis://:{REDIS_PASSWORD}@10.0.0.5:6379/0",
        "SAGALINE_CONCURRENCY": "8",
        "SAGALINE_RETRY": json.dumps({"charge": {"max_attempts": 5}}),
        "SAGALINE_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "SAGALINE_KAFKA_USERNAME": "stripe-job",
        "SAGALINE_KAFKA_PASSWORD": "kafka-pa55word",
        "SAGALINE_KAFKA_TLS": "true",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_settings_are_read_from_sagaline_variables(env):
    settings = JobSettings()

    assert settings.job_name == "payment_gateway_stripe_job"
    assert (settings.provider, settings.concurrency) == ("stripe", 8)
    assert settings.group_id == "payment_gateway_stripe_job"
    assert settings.key_ring().active == "k2024"
    assert settings.retry["charge"].max_attempts == 5


def test_secrets_are_masked_in_repr_str_and_json(env):
    settings = JobSettings()

    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert SECRET not in text
        assert REDIS_PASSWORD not in text
        assert "kafka-pa55word" not in text


def test_a_bad_signing_key_spec_fails_without_echoing_the_secret(monkeypatch, env):
    monkeypatch.setenv("SAGALINE_SIGNING_KEYS", "k1:short-secret-x")

    with pytest.raises(ValidationError) as failure:
        JobSettings()

    assert "at least 16 bytes" in str(failure.value)
    assert "short-secret-x" not in str(failure.value)


def test_an_active_key_id_that_is_not_in_the_ring_is_refused(monkeypatch, env):
    monkeypatch.setenv("SAGALINE_SIGNING_ACTIVE_KEY", "k1999")

    with pytest.raises(ValidationError, match="k1999"):
        JobSettings()


def test_a_retry_override_replaces_only_the_fields_it_names(settings_with):
    settings = settings_with(retry={"charge": {"max_attempts": 7}})
    app = create_app(FakePaymentJob(settings), store=MemoryIdempotencyStore())

    policy = app.runtime.retry_policy("charge")
    assert policy.max_attempts == 7
    assert policy.initial_interval == 0.1  # the template's own value
    assert app.runtime.retry_policy("refund").max_attempts == 5


def test_a_retry_override_for_an_operation_the_template_lacks_is_refused(settings_with):
    settings = settings_with(retry={"chrage": {"max_attempts": 7}})

    with pytest.raises(ValueError, match="chrage"):
        create_app(FakePaymentJob(settings), store=MemoryIdempotencyStore())


def test_kafka_sasl_scram_over_tls_is_configured_from_settings(env):
    security = kafka_security(JobSettings())

    assert isinstance(security, SASLScram512)
    assert security.username == "stripe-job"
    assert isinstance(security.ssl_context, ssl.SSLContext)


def test_a_plaintext_listener_needs_no_security(settings_with):
    assert kafka_security(settings_with()) is None
