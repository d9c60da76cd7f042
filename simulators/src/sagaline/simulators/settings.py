"""Settings every simulated provider reads, on top of the job runtime's own (prefix ``SAGALINE_``).

A derived job's ``settings.py`` subclasses one of these and only sets ``job_name`` and ``provider``,
so two derived jobs of one template have settings that differ in names alone.
"""

from __future__ import annotations

from pydantic import Field
from sagaline.contracts.job.settings import JobSettings


class SimulatorSettings(JobSettings):
    """Faults any provider can be asked to show: added latency and an outage window."""

    sim_latency_seconds: float = Field(
        default=0.0, ge=0, le=30, description="Added to every provider request."
    )
    sim_outage_seconds: float = Field(
        default=0.0,
        ge=0,
        description="Start an outage of this many seconds when the job starts (0: none). "
        "At run time the outage is switched with the Redis key <redis_prefix>sim:<provider>:outage_until.",
    )


class PaymentSimulatorSettings(SimulatorSettings):
    """How a simulated payment provider decides: declined tokens and a funds limit."""

    sim_decline_tokens: tuple[str, ...] = Field(
        default=("tok_declined",), description="Card tokens the provider declines (card_declined)."
    )
    sim_insufficient_funds_above_cents: int = Field(
        default=1_000_000, gt=0, description="Charges above this amount fail with insufficient_funds."
    )

    def issuer_decline(self, card_token: str, amount_cents: int) -> str | None:
        """The card issuer's decline code for this charge, or None when it approves."""
        if card_token in self.sim_decline_tokens:
            return "card_declined"
        if amount_cents > self.sim_insufficient_funds_above_cents:
            return "insufficient_funds"
        return None


class CarrierSimulatorSettings(SimulatorSettings):
    """Where a simulated carrier delivers."""

    sim_supported_countries: tuple[str, ...] = Field(
        default=("US", "CA", "MX", "GB", "IE", "FR", "DE", "NL", "BE", "ES", "IT", "SE", "DK", "NO"),
        description="ISO 3166-1 alpha-2 countries the carrier ships to; others are rejected.",
    )
    sim_undeliverable_postal_codes: tuple[str, ...] = Field(
        default=("00000",), description="Postal codes the carrier rejects as undeliverable."
    )

    def undeliverable(self, country: str, postal_code: str) -> str | None:
        """Why the carrier cannot deliver to this address, or None when it can."""
        if country not in self.sim_supported_countries:
            return f"country {country} is not served"
        if postal_code.strip() in self.sim_undeliverable_postal_codes:
            return f"postal code {postal_code} is not deliverable"
        return None
