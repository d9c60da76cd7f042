"""Email: a notification becomes one message sent over SMTP with aiosmtplib.

This adapter is real, not simulated: it talks SMTP to the configured relay (the local stack's
aiosmtpd sink, Mailpit under compose, a provider's submission port in production). The Message-ID
is derived from the command's idempotency key, so a send repeated after a crash carries the same id
and the receiving side can recognise it. The recipient is personal data: it is never logged and
never part of a failure reason.

Outcomes: a blocked recipient domain or a permanent (5xx) refusal of the recipient or message is a
business rejection (``NotificationRejected``); an unreachable, timing out or temporarily refusing
(4xx) server is a ``TransientError``, retried by the runtime; refused credentials or sender are a
configuration error and end in the DLQ. Like a simulated provider it also honours
the outage switch and added latency, so tests and the demo can take the mail relay away.
"""

from __future__ import annotations

import uuid
from email.message import EmailMessage

import aiosmtplib
from sagaline.contracts.job import Declined, TransientError
from sagaline.contracts.templates.notification import NotificationRejected, NotificationSent, SendNotification
from sagaline.simulators import Simulation, unreachable_is_transient

from notification_email_job.settings import EmailSettings

ORDER_HEADER = "X-Sagaline-Order-Id"
_MESSAGE_ID_NAMESPACE = uuid.UUID("0b6f7d0e-3f7c-4f1e-9d55-58a9a3b1c2d4")


class EmailProvider:
    """notification's ``send`` over SMTP: template commands in, template replies out."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings
        self.simulation = Simulation(settings)

    async def open(self) -> None:
        await self.simulation.open()

    async def close(self) -> None:
        await self.simulation.close()

    async def send(self, command: SendNotification, idempotency_key: str) -> NotificationSent:
        with unreachable_is_transient("Redis"):
            await self.simulation.calls.record("send", idempotency_key)
            if await self.simulation.unavailable():
                raise TransientError("the mail relay is unavailable (simulated outage)")
        domain = command.recipient.rpartition("@")[2].lower()
        if self._blocked(domain):
            raise Declined(NotificationRejected(reason=f"recipient domain {domain} is blocked"))
        message_id = f"<{uuid.uuid5(_MESSAGE_ID_NAMESPACE, idempotency_key)}@sagaline.notification>"
        message = self._message(command, message_id)
        await self._deliver(message)
        return NotificationSent(order_id=command.order_id, delivery_id=message_id)

    def _blocked(self, domain: str) -> bool:
        return any(domain == d or domain.endswith(f".{d}") for d in self.settings.email_blocked_domains)

    def _message(self, command: SendNotification, message_id: str) -> EmailMessage:
        message = EmailMessage()
        try:
            message["From"] = self.settings.email_sender
            message["To"] = command.recipient
            message["Subject"] = command.subject
            message["Message-ID"] = message_id
            message[ORDER_HEADER] = command.order_id
        except ValueError:
            # A line break in a header would let the payload write headers of its own.
            raise Declined(
                NotificationRejected(reason="the subject or order id cannot be a mail header")
            ) from None
        message.set_content(command.body)
        return message

    async def _deliver(self, message: EmailMessage) -> None:
        settings = self.settings
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username or None,
                password=settings.smtp_password.get_secret_value() or None,
                start_tls=settings.smtp_starttls,
                timeout=settings.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = sorted({r.code for r in exc.recipients})
            if all(code >= 500 for code in codes):
                raise Declined(
                    NotificationRejected(reason=f"the mail server refused the recipient ({codes})")
                ) from None
            raise TransientError(f"the mail server deferred the recipient ({codes})") from None
        except aiosmtplib.SMTPNotSupported as exc:
            raise Declined(
                NotificationRejected(reason=f"the mail server cannot take this message: {exc}")
            ) from None
        except aiosmtplib.SMTPDataError as exc:
            if exc.code >= 500:
                raise Declined(
                    NotificationRejected(reason=f"the mail server refused the message ({exc.code})")
                ) from None
            raise TransientError(f"the mail server deferred the message ({exc.code})") from None
        except (aiosmtplib.SMTPAuthenticationError, aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPHeloError):
            # Our credentials or sender are wrong: no retry or other provider fixes that, so the
            # command goes to the DLQ, kept for replay once an operator has fixed the settings.
            raise
        except aiosmtplib.SMTPResponseException as exc:
            raise TransientError(f"the mail server answered {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection refused or dropped, timeouts: the relay may be back in a moment.
            raise TransientError(f"the mail relay is unreachable ({type(exc).__name__})") from None
