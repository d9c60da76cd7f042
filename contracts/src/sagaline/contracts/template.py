"""A template: one kind of work, versioned, with its operations and their replies.

A template is data. The job runtime, the coordinator, the schema exporter and the conformance kit
all read the same object, so an operation's command, replies, compensation and defaults are
declared exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import semver
from sagaline.contracts.messages import Command, FailureReply, Reply, SuccessReply
from sagaline.contracts.retry import RetryPolicy


@dataclass(frozen=True)
class Operation:
    """One thing a derived job can be asked to do.

    ``name`` is also the hook method a derived job implements (``charge``, ``refund``).
    ``compensation`` names the operation that undoes this one (None: nothing to undo).
    ``failure`` is the closed set of failure replies; ``failure[0]`` is the generic one the
    runtime emits for retryable (transient) failures, the rest are business declines.
    """

    name: str
    command: type[Command]
    success: type[SuccessReply]
    failure: tuple[type[FailureReply], ...]
    compensation: str | None = None
    is_compensation: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: float = 10.0

    @property
    def replies(self) -> tuple[type[Reply], ...]:
        return (self.success, *self.failure)

    @property
    def retryable_failure(self) -> type[FailureReply]:
        return self.failure[0]


@dataclass(frozen=True)
class Template:
    name: str
    version: str
    operations: Mapping[str, Operation]
    description: str = ""

    def __post_init__(self) -> None:
        semver.Version.parse(self.version)
        for op_name, op in self.operations.items():
            if op_name != op.name:
                raise ValueError(f"{self.name}: operation key {op_name!r} != name {op.name!r}")
            if op.compensation is not None and op.compensation not in self.operations:
                raise ValueError(f"{self.name}.{op.name}: unknown compensation {op.compensation!r}")
            if not op.failure:
                raise ValueError(f"{self.name}.{op.name}: needs at least one failure reply")

    @property
    def major(self) -> int:
        return semver.Version.parse(self.version).major

    @property
    def contract(self) -> str:
        """``name@version``, as carried in every envelope."""
        return f"{self.name}@{self.version}"

    def operation(self, name: str) -> Operation:
        try:
            return self.operations[name]
        except KeyError:
            raise KeyError(f"template {self.name!r} has no operation {name!r}") from None

    def operation_for_command(self, message_type: str) -> Operation | None:
        for op in self.operations.values():
            if op.command.message_type == message_type:
                return op
        return None

    def reply_types(self) -> dict[str, type[Reply]]:
        return {r.message_type: r for op in self.operations.values() for r in op.replies}

    def command_types(self) -> dict[str, type[Command]]:
        return {op.command.message_type: op.command for op in self.operations.values()}
