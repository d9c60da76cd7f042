"""What can happen to a saga: the inputs of ``transition``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sagaline.contracts.envelope import Envelope


@dataclass(frozen=True)
class StartSaga:
    """Begin a saga with ``data`` (a mapping or a pydantic model; stored as JSON data)."""

    saga_id: str
    data: Mapping[str, Any] | BaseModel = field(default_factory=dict)


@dataclass(frozen=True)
class ReplyReceived:
    """A job's reply, read from its template's events topic (signature already verified)."""

    envelope: Envelope

    @property
    def saga_id(self) -> str:
        return self.envelope.saga_id


@dataclass(frozen=True)
class TimerFired:
    """A timer the saga asked for came due; ``token`` says which one."""

    saga_id: str
    token: str


@dataclass(frozen=True)
class ResumeSaga:
    """Operator: retry the compensation that made the saga ``failed``."""

    saga_id: str
    reason: str = ""


@dataclass(frozen=True)
class CancelSaga:
    """Operator: roll a running saga back, or give up on a failed one."""

    saga_id: str
    reason: str = ""


Incoming = StartSaga | ReplyReceived | TimerFired | ResumeSaga | CancelSaga
