"""``TemplateJob``: the base of every derived job. A subclass implements only the provider calls."""

from __future__ import annotations

import logging
from abc import ABC
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, cast

from sagaline.contracts.job.context import JobContext
from sagaline.contracts.job.settings import JobSettings
from sagaline.contracts.messages import SuccessReply
from sagaline.contracts.template import Operation, Template

Hook = Callable[[Any, JobContext], Awaitable[SuccessReply]]


class TemplateJob(ABC):
    """One derived job: a template's hooks (one async method per operation) for one provider.

    Everything else — consuming, signature checks, validation, de-duplication, retries, replies,
    dead letters, metrics, tracing, shutdown — is the runtime's (see ``create_app``/``run_job``).
    A hook returns the operation's success reply, raises ``Declined(<failure reply>)`` for a
    business refusal or ``TransientError`` when asking again may help. Compensation hooks must
    succeed when the step they undo never happened.
    """

    template: ClassVar[Template]

    def __init__(self, settings: JobSettings) -> None:
        self.settings = settings
        self.log = logging.getLogger(f"sagaline.job.{settings.job_name}")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        template: Template | None = getattr(cls, "template", None)
        if template is None:
            return
        missing = [name for name in template.operations if not callable(getattr(cls, name, None))]
        if missing:
            raise TypeError(f"{cls.__name__} lacks hooks for {template.name} operations: {missing}")
        for op in template.operations.values():
            for reply in op.replies:
                # Outcomes are stored in Redis in clear to replay them; a sensitive field there
                # would break the "encrypted at rest" rule, so refuse such a template outright.
                if reply.sensitive_fields():
                    raise TypeError(f"{reply.__name__} has sensitive fields; replies are stored in clear")

    def hook(self, operation: Operation) -> Hook:
        """The bound method implementing ``operation`` (looked up by the operation's name)."""
        return cast(Hook, getattr(self, operation.name))

    # Optional hooks with a do-nothing default, not abstract: most jobs need neither.
    async def startup(self) -> None:  # noqa: B027
        """Open provider clients. Runs before the job starts consuming."""

    async def shutdown(self) -> None:  # noqa: B027
        """Close provider clients. Runs after in-flight commands finished and offsets were committed."""
