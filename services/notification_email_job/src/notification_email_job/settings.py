"""Settings of notification_email_job: the runtime's, the fault switches' and the mail relay's."""

from __future__ import annotations

from pydantic import Field, SecretStr
from sagaline.simulators import SimulatorSettings


class EmailSettings(SimulatorSettings):
    job_name: str = "notification_email_job"
    provider: str = "email"
    # Defaults reach the local stack's SMTP sink (make stack-up), which delivers into .stack/mail.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_username: str = Field(default="", description="Empty: no SMTP AUTH.")
    smtp_password: SecretStr = SecretStr("")
    smtp_starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS (port 587).")
    smtp_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Per SMTP command; below the op timeout."
    )
    email_sender: str = Field(
        default="Sagaline Orders <orders@sagaline.example>", description="The From header."
    )
    email_blocked_domains: tuple[str, ...] = Field(
        default=("invalid",),
        description="Recipient domains (and their subdomains) refused without sending; "
        "'invalid' is the TLD reserved as never deliverable (RFC 2606).",
    )
