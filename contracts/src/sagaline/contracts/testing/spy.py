"""Counts (and on request delays or fails) a job's provider calls, without touching its code."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from typing import Any

from sagaline.contracts.job.base import Hook, TemplateJob
from sagaline.contracts.job.context import JobContext
from sagaline.contracts.messages import SuccessReply


class HookSpy:
    """Wraps every hook of one job instance; install it before ``create_app`` reads the hooks."""

    def __init__(self) -> None:
        self._calls: Counter[tuple[str, str]] = Counter()
        self._delays: dict[str, float] = {}
        self._failures: defaultdict[str, deque[BaseException]] = defaultdict(deque)

    @classmethod
    def install(cls, job: TemplateJob) -> HookSpy:
        spy = cls()
        for op in job.template.operations.values():
            setattr(job, op.name, spy._wrap(op.name, job.hook(op)))
        return spy

    def _wrap(self, operation: str, hook: Hook) -> Hook:
        async def spied(command: Any, ctx: JobContext) -> SuccessReply:
            self._calls[(operation, ctx.idempotency_key)] += 1
            if delay := self._delays.get(operation):
                await asyncio.sleep(delay)
            failures = self._failures[operation]
            if failures:
                raise failures.popleft()
            return await hook(command, ctx)

        return spied

    def calls(self, operation: str, idempotency_key: str | None = None) -> int:
        """Provider calls of ``operation`` (for one idempotency key, or all of them)."""
        if idempotency_key is not None:
            return self._calls[(operation, idempotency_key)]
        return sum(n for (op, _), n in self._calls.items() if op == operation)

    def total_calls(self) -> int:
        return sum(self._calls.values())

    def delay(self, operation: str, seconds: float) -> None:
        """Make every later call of ``operation`` take ``seconds`` longer (0 to stop)."""
        self._delays[operation] = seconds

    def fail(self, operation: str, *errors: BaseException) -> None:
        """Make the next calls of ``operation`` raise ``errors`` in order (the provider is not called)."""
        self._failures[operation].extend(errors)

    def reset(self) -> None:
        self._delays.clear()
        self._failures.clear()
