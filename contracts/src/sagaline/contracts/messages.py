"""Typed message bodies: commands (``VerbNoun``) and replies (``NounVerbed``).

Every body names itself on the wire with an explicit ``message_type`` string, never a Python
import path, so a consumer in another language (or a renamed module) reads the same bytes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


def sensitive(**kwargs: Any) -> Any:
    """A ``Field`` marked sensitive: masked in logs and encrypted at rest where stored."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra["x-sensitive"] = True
    return Field(json_schema_extra=extra, **kwargs)


class Message(BaseModel):
    """Base of every payload. Frozen: a message is a fact, not a mutable object."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    message_type: ClassVar[str]

    @classmethod
    def sensitive_fields(cls) -> frozenset[str]:
        return frozenset(
            name
            for name, field in cls.model_fields.items()
            if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("x-sensitive")
        )


class Command(Message):
    """A request for a derived job to do one thing."""


class Reply(Message):
    """The outcome of a command, published by the job on its template's events topic."""

    outcome: ClassVar[str]  # "success" | "failure"


class SuccessReply(Reply):
    outcome: ClassVar[str] = "success"


class FailureReply(Reply):
    """A typed failure. ``retryable`` tells the coordinator whether another provider may succeed."""

    outcome: ClassVar[str] = "failure"

    reason: str = Field(description="Human-readable reason for the failure.")
    retryable: bool = Field(
        default=False,
        description="True when the job gave up on transient errors; the coordinator may fail over.",
    )
