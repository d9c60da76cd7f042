"""Coordinator settings from the environment (prefix ``SAGALINE_``); secrets are masked."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sagaline.contracts.signing import KeyRing


class CoordinatorSettings(BaseSettings):
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
    signing_keys: SecretStr = Field(description="'id:secret[,id:secret...]'; the first signs commands.")
    signing_active_key: str | None = None
    otlp_endpoint: str | None = None
    http_host: str = "0.0.0.0"  # the API and probes must be reachable in a container
    http_port: int = Field(default=8000, ge=0, le=65535)
    api_token: SecretStr = Field(description="Bearer token the HTTP API requires.")
    lease_seconds: float = Field(default=10.0, gt=0, description="Outbox and timer claim lease.")
    timer_interval: float = Field(default=0.1, gt=0)
    log_level: str = "INFO"

    def key_ring(self) -> KeyRing:
        return KeyRing.from_spec(self.signing_keys.get_secret_value(), self.signing_active_key)
