"""notification's hook for email: it hands the command to the provider adapter."""

from __future__ import annotations

from sagaline.contracts.job import JobContext, NotificationJob
from sagaline.contracts.templates.notification import NotificationSent, SendNotification

from notification_email_job.provider import EmailProvider
from notification_email_job.settings import EmailSettings


class EmailJob(NotificationJob):
    def __init__(self, settings: EmailSettings) -> None:
        super().__init__(settings)
        self.provider = EmailProvider(settings)

    async def startup(self) -> None:
        await self.provider.open()

    async def shutdown(self) -> None:
        await self.provider.close()

    async def send(self, command: SendNotification, ctx: JobContext) -> NotificationSent:
        return await self.provider.send(command, ctx.idempotency_key)
