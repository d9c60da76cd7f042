"""Dead letters: poison input goes to the DLQ topic byte for byte, with why and where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import ValidationError

REASON_HEADER = "x-sagaline-reason"
DETAIL_HEADER = "x-sagaline-detail"
SOURCE_TOPIC_HEADER = "x-sagaline-source-topic"
SOURCE_PARTITION_HEADER = "x-sagaline-source-partition"
SOURCE_OFFSET_HEADER = "x-sagaline-source-offset"
JOB_HEADER = "x-sagaline-job"
DEAD_LETTERED_AT_HEADER = "x-sagaline-dead-lettered-at"

_MAX_DETAIL = 500


class DlqReason(StrEnum):
    """Why a message was dead-lettered; the value of the ``x-sagaline-reason`` header."""

    UNDECODABLE = "undecodable"
    NOT_A_COMMAND = "not_a_command"
    BAD_SIGNATURE = "bad_signature"
    WRONG_TEMPLATE = "wrong_template"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNKNOWN_MESSAGE_TYPE = "unknown_message_type"
    INVALID_PAYLOAD = "invalid_payload"
    CONTRACT_VIOLATION = "contract_violation"
    HANDLER_ERROR = "handler_error"


class Rejected(Exception):
    """Input the job will not process; it goes to the DLQ with ``reason`` and ``detail``."""

    def __init__(self, reason: DlqReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Source:
    """Where a consumed record came from, so an operator can find it again."""

    topic: str
    partition: int
    offset: int
    key: bytes | None = None


def describe_validation_error(error: ValidationError) -> str:
    """Field paths and messages only: input values may hold card tokens or personal data."""
    parts = []
    for item in error.errors(include_input=False, include_url=False, include_context=False):
        where = ".".join(str(p) for p in item["loc"]) or "(root)"
        parts.append(f"{where}: {item['msg']}")
    return truncate("; ".join(parts))


def truncate(text: str) -> str:
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def dlq_headers(reason: DlqReason, detail: str, source: Source, job_name: str) -> dict[str, str]:
    return {
        REASON_HEADER: reason.value,
        DETAIL_HEADER: truncate(detail),
        SOURCE_TOPIC_HEADER: source.topic,
        SOURCE_PARTITION_HEADER: str(source.partition),
        SOURCE_OFFSET_HEADER: str(source.offset),
        JOB_HEADER: job_name,
        DEAD_LETTERED_AT_HEADER: datetime.now(UTC).isoformat(),
    }
