"""Coordinator settings from the environment (prefix ``SAGALINE_``); secrets are masked."""

from __future__ import annotations

import ssl
from typing import Any, Literal

from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLScram256, SASLScram512
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sagaline.contracts.job.settings import ConsumerTuning
from sagaline.contracts.signing import KeyRing


class CoordinatorSettings(ConsumerTuning, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAGALINE_", extra="ignore", frozen=True)

    service_name: str = "sagaline-coordinator"
    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    redis_prefix: str = Field(
        default="sagaline:", description="Prefix of every Redis key the coordinator writes."
    )
    redis_buckets: int = Field(default=16, ge=1, le=1024, description="Fixed for the life of the data.")
    topic_prefix: str = Field(default="", description="Prefix of every topic, e.g. 'staging.'.")
    consumer_group: str = "sagaline-coordinator"
    concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Consumers per events topic in this process (parallel by partition).",
    )
    topic_partitions: int = Field(default=4, ge=1, description="Partitions of topics it creates.")
    declare_topics: bool = Field(
        default=True, description="Create missing command/event/DLQ topics at start."
    )
    kafka_sasl_mechanism: Literal["", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="", description="Empty for no SASL."
    )
    kafka_username: str = ""
    kafka_password: SecretStr = SecretStr("")
    kafka_tls: bool = False
    kafka_ca_file: str | None = Field(default=None, description="CA bundle for TLS; system CAs if unset.")
    signing_keys: SecretStr = Field(description="'id:secret[,id:secret...]'; the first signs commands.")
    signing_active_key: str | None = None
    otlp_endpoint: str | None = None
    http_host: str = "0.0.0.0"  # the API and probes must be reachable in a container
    http_port: int = Field(default=8000, ge=0, le=65535)
    api_token: SecretStr = Field(description="Bearer token the HTTP API requires.")
    lease_seconds: float = Field(default=10.0, gt=0, description="Outbox and timer claim lease.")
    timer_interval: float = Field(default=0.1, gt=0)
    shutdown_grace_seconds: float = Field(
        default=10.0, gt=0, description="How long a stop waits for replies being applied."
    )
    log_level: str = "INFO"

    def kafka_security(self) -> BaseSecurity | None:
        """SASL/SCRAM and/or TLS for every Kafka client of the coordinator; None for plaintext."""
        context = ssl.create_default_context(cafile=self.kafka_ca_file) if self.kafka_tls else None
        password = self.kafka_password.get_secret_value()
        if self.kafka_sasl_mechanism == "SCRAM-SHA-256":
            return SASLScram256(self.kafka_username, password, ssl_context=context)
        if self.kafka_sasl_mechanism == "SCRAM-SHA-512":
            return SASLScram512(self.kafka_username, password, ssl_context=context)
        return BaseSecurity(ssl_context=context) if context is not None else None

    def aiokafka_options(self) -> dict[str, Any]:
        """Keyword arguments for plain aiokafka clients (producer, admin) with the same security."""
        return {"bootstrap_servers": self.kafka_bootstrap, **parse_security(self.kafka_security())}

    def key_ring(self) -> KeyRing:
        return KeyRing.from_spec(self.signing_keys.get_secret_value(), self.signing_active_key)
