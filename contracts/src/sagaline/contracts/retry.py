"""Retry policy as data (attempts, backoff), declared once per operation or saga step."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class RetryPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_attempts: int = Field(default=3, ge=1, description="Total attempts including the first.")
    initial_interval: float = Field(default=0.2, gt=0, description="Seconds before the first retry.")
    backoff_coefficient: float = Field(default=2.0, ge=1.0)
    max_interval: float = Field(default=5.0, gt=0, description="Upper bound of one wait, seconds.")
    non_retryable: tuple[str, ...] = Field(
        default=(), description="message_types of failures that must not be retried."
    )

    @model_validator(mode="after")
    def _interval_bounds(self) -> RetryPolicy:
        if self.max_interval < self.initial_interval:
            raise ValueError("max_interval must be >= initial_interval")
        return self

    def delay(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1 = first retry)."""
        if retry_number < 1:
            raise ValueError("retry_number starts at 1")
        raw = self.initial_interval * self.backoff_coefficient ** (retry_number - 1)
        return float(min(raw, self.max_interval))
