"""Job settings from the environment (prefix ``SAGALINE_``).

Secrets (signing keys, the Redis URL which may carry a password, the Kafka password) are
``SecretStr``: their ``repr`` and ``str`` are masked, so logging a settings object leaks nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sagaline.contracts.retry import RetryPolicy
from sagaline.contracts.signing import KeyRing


class RetryOverride(BaseModel):
    """Fields of an operation's ``RetryPolicy`` to replace; unset fields keep the template's."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int | None = Field(default=None, ge=1)
    initial_interval: float | None = Field(default=None, gt=0)
    backoff_coefficient: float | None = Field(default=None, ge=1.0)
    max_interval: float | None = Field(default=None, gt=0)

    def apply(self, policy: RetryPolicy) -> RetryPolicy:
        return RetryPolicy.model_validate({**policy.model_dump(), **self.model_dump(exclude_none=True)})


class ConsumerTuning(BaseModel):
    """How a service's Kafka consumers commit and heartbeat: shared by the jobs and the coordinator
    (a settings class mixes it in, so the fields read ``SAGALINE_<FIELD>`` like the rest)."""

    commit_interval_seconds: float = Field(
        default=0.1,
        ge=0,
        le=5,
        description="Handled offsets are committed in one batch at most this long after the first.",
    )
    consumer_heartbeat_ms: int = Field(
        default=500,
        ge=100,
        le=10_000,
        description="Consumer heartbeat interval. A rebalance waits until every member heard of it "
        "on a heartbeat, so this bounds how long a consumer joining or leaving stalls the group "
        "(Kafka's default of 3 s stalled a starting job for seconds).",
    )


class JobSettings(ConsumerTuning, BaseSettings):
    """Everything a derived job reads from its environment.

    A derived job subclasses this to set ``job_name`` and ``provider`` defaults and to add its own
    provider settings (which then read ``SAGALINE_<FIELD>`` too).
    """

    # hide_input_in_errors: a rejected value may be a secret, and errors end up in logs.
    model_config = SettingsConfigDict(
        env_prefix="SAGALINE_", extra="ignore", frozen=True, hide_input_in_errors=True
    )

    job_name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$", description="Service name, e.g. payment_gateway_stripe_job."
    )
    provider: str = Field(
        pattern=r"^[a-z][a-z0-9_-]*$", description="Derived job id in topic names, e.g. stripe."
    )
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_sasl_mechanism: Literal["", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="", description="Empty for no SASL."
    )
    kafka_username: str = ""
    kafka_password: SecretStr = SecretStr("")
    kafka_tls: bool = False
    kafka_ca_file: str | None = Field(default=None, description="CA bundle for TLS; system CAs if unset.")
    redis_url: SecretStr = Field(
        default=SecretStr("redis://127.0.0.1:6379/0"),
        description="May carry a password or ACL user (rediss:// for TLS), hence secret.",
    )
    redis_prefix: str = Field(default="sagaline:", description="Prefix of every Redis key the job writes.")
    topic_prefix: str = Field(
        default="", description="Prefix of every topic (commands, events, DLQ), e.g. 'staging.'."
    )
    consumer_group: str | None = Field(default=None, description="Defaults to <topic_prefix><job_name>.")
    concurrency: int = Field(
        default=4, ge=1, le=64, description="Commands handled at once (one consumer per slot)."
    )
    declare_topics: bool = Field(default=True, description="Create the commands topic if missing.")
    command_partitions: int = Field(default=4, ge=1, description="Partitions of a created commands topic.")
    signing_keys: SecretStr = Field(description="'id:secret[,id:secret...]'; the first signs replies.")
    signing_active_key: str | None = Field(default=None, description="Key id that signs, if not the first.")
    otlp_endpoint: str | None = Field(default=None, description="OTLP gRPC endpoint; no export if unset.")
    # All interfaces: the health/metrics port must be reachable by probes and scrapers.
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535, description="/health, /ready and /metrics.")
    dedupe_ttl_seconds: int = Field(
        default=7 * 24 * 3600, ge=60, description="How long an outcome is replayed to duplicates."
    )
    retry: dict[str, RetryOverride] = Field(
        default_factory=dict, description='Per operation, e.g. {"charge": {"max_attempts": 5}} (JSON).'
    )
    shutdown_grace_seconds: float = Field(
        default=30.0, gt=0, description="How long in-flight commands may take to finish on SIGTERM."
    )
    log_level: str = "INFO"

    @field_validator("signing_keys")
    @classmethod
    def _parse_keys(cls, value: SecretStr) -> SecretStr:
        # Parse once here so a bad spec fails at start-up; the error never echoes the secret.
        try:
            KeyRing.from_spec(value.get_secret_value())
        except ValueError as exc:
            raise ValueError(f"invalid signing key spec: {exc}") from None
        return value

    @model_validator(mode="after")
    def _active_key_known(self) -> JobSettings:
        if self.signing_active_key is not None:
            try:
                self.key_ring()
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        return self

    def key_ring(self) -> KeyRing:
        return KeyRing.from_spec(self.signing_keys.get_secret_value(), self.signing_active_key)

    @property
    def group_id(self) -> str:
        return self.consumer_group or f"{self.topic_prefix}{self.job_name}"
