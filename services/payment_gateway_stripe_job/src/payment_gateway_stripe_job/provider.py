"""Stripe: payment_gateway commands become PaymentIntent and Refund requests.

No real Stripe is reachable here, so ``StripeClient`` talks to ``StripeSimulator``, which answers
the same requests with the same objects and errors from state in Redis. An HTTP transport to
api.stripe.com in its place would leave the client and ``StripeProvider`` as they are.

Charge: create a PaymentIntent (amount, currency, payment_method, metadata.order_id), confirm it,
report its ``latest_charge``. Refund: refund that charge; without a charge id, search the order's
charges first. Every request carries an Idempotency-Key derived from the command's, so a request
repeated after a crash is answered with what it did the first time.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sagaline.contracts.job import Declined, TransientError
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentDeclined,
    PaymentRefunded,
    RefundFailed,
    RefundPayment,
)
from sagaline.simulators import (
    IdempotencyConflict,
    PaymentLedger,
    PaymentSimulatorSettings,
    RefundRefused,
    Simulation,
    unreachable_is_transient,
)

Json = dict[str, Any]

_CONFIRM = re.compile(r"/v1/payment_intents/(?P<id>pi_\w+)/confirm")
_ORDER_QUERY = re.compile(r"metadata\['order_id'\]:'(?P<order_id>(?:[^'\\]|\\.)*)'")
_DECLINES = {
    "card_declined": ("generic_decline", "Your card was declined."),
    "insufficient_funds": ("insufficient_funds", "Your card has insufficient funds."),
}


class StripeError(Exception):
    """Stripe's error object; raised for every response with status >= 400."""

    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        *,
        code: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(f"{status} {kind}: {message}")
        self.status = status
        self.kind = kind  # Stripe's error "type": card_error, invalid_request_error, api_error...
        self.message = message
        self.code = code
        self.decline_code = decline_code


class StripeTransport(Protocol):
    async def request(self, method: str, path: str, params: Json, idempotency_key: str = "") -> Json: ...


class StripeClient:
    """The calls stripe-python would make, over a transport."""

    def __init__(self, transport: StripeTransport) -> None:
        self._transport = transport

    async def create_payment_intent(
        self,
        *,
        amount: int,
        currency: str,
        payment_method: str,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> Json:
        params = {
            "amount": amount,
            "currency": currency,
            "payment_method": payment_method,
            "metadata": metadata,
        }
        return await self._transport.request("POST", "/v1/payment_intents", params, idempotency_key)

    async def confirm_payment_intent(self, intent_id: str, *, idempotency_key: str) -> Json:
        return await self._transport.request(
            "POST", f"/v1/payment_intents/{intent_id}/confirm", {}, idempotency_key
        )

    async def search_charges(self, *, query: str) -> Json:
        return await self._transport.request("GET", "/v1/charges/search", {"query": query})

    async def create_refund(
        self, *, charge: str, amount: int, metadata: dict[str, str], idempotency_key: str
    ) -> Json:
        params = {"charge": charge, "amount": amount, "metadata": metadata}
        return await self._transport.request("POST", "/v1/refunds", params, idempotency_key)


class StripeSimulator:
    """The part of Stripe's API this job uses. Charges and refunds go to the payment ledger."""

    def __init__(self, simulation: Simulation, settings: PaymentSimulatorSettings) -> None:
        self._sim = simulation
        self._settings = settings
        self._ledger = PaymentLedger(simulation.redis, settings.redis_prefix, settings.provider)
        self._intents = f"{settings.redis_prefix}sim:{settings.provider}:payment_intents"

    async def request(self, method: str, path: str, params: Json, idempotency_key: str = "") -> Json:
        if await self._sim.unavailable():
            raise StripeError(503, "api_error", "Stripe is temporarily unavailable.")
        if method == "POST" and path == "/v1/payment_intents":
            return await self._create_intent(params, idempotency_key)
        if method == "POST" and (confirm := _CONFIRM.fullmatch(path)):
            return await self._confirm_intent(confirm["id"], idempotency_key)
        if method == "GET" and path == "/v1/charges/search":
            return await self._search_charges(params["query"])
        if method == "POST" and path == "/v1/refunds":
            return await self._create_refund(params, idempotency_key)
        raise StripeError(404, "invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    async def _create_intent(self, params: Json, idempotency_key: str) -> Json:
        # An id derived from the Idempotency-Key makes a repeated create return the same intent.
        intent_id = "pi_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
        intent = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "payment_method": params["payment_method"],
            "metadata": params["metadata"],
            "status": "requires_confirmation",
            "latest_charge": None,
            "last_payment_error": None,
        }
        await self._sim.redis.hsetnx(self._intents, intent_id, json.dumps(intent))
        stored = await self._intent(intent_id)
        if any(stored[name] != intent[name] for name in ("amount", "currency", "payment_method", "metadata")):
            raise StripeError(
                400,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters.",
            )
        return stored

    async def _confirm_intent(self, intent_id: str, idempotency_key: str) -> Json:
        intent = await self._intent(intent_id)
        if intent["status"] == "succeeded":
            return intent
        decline = self._settings.issuer_decline(intent["payment_method"], intent["amount"])
        if decline is not None:
            decline_code, message = _DECLINES[decline]
            error = {"type": "card_error", "code": "card_declined", "decline_code": decline_code}
            await self._save({**intent, "status": "requires_payment_method", "last_payment_error": error})
            raise StripeError(402, "card_error", message, code="card_declined", decline_code=decline_code)
        try:
            charge = await self._ledger.charge(
                idempotency_key=idempotency_key,
                charge_id="ch_" + uuid.uuid4().hex[:24],
                order_id=intent["metadata"]["order_id"],
                amount_cents=intent["amount"],
                currency=intent["currency"].upper(),
            )
        except IdempotencyConflict as exc:
            raise StripeError(400, "idempotency_error", str(exc)) from None
        intent = {
            **intent,
            "status": "succeeded",
            "latest_charge": charge.charge_id,
            "last_payment_error": None,
        }
        await self._save(intent)
        return intent

    async def _search_charges(self, query: str) -> Json:
        match = _ORDER_QUERY.fullmatch(query)
        if match is None:
            raise StripeError(400, "invalid_request_error", f"Unsupported search query: {query}")
        found = await self._ledger.charges_for_order(re.sub(r"\\(.)", r"\1", match["order_id"]))
        data = [
            {
                "id": charge.charge_id,
                "object": "charge",
                "amount": charge.amount_cents,
                "currency": charge.currency.lower(),
                "metadata": {"order_id": charge.order_id},
                "refunded": refund_id is not None,
            }
            for charge, refund_id in found
        ]
        return {"object": "search_result", "data": data, "has_more": False}

    async def _create_refund(self, params: Json, idempotency_key: str) -> Json:
        try:
            refund = await self._ledger.refund(
                idempotency_key=idempotency_key,
                refund_id="re_" + uuid.uuid4().hex[:24],
                order_id=params["metadata"]["order_id"],
                charge_id=params["charge"],
                amount_cents=int(params["amount"]),
            )
        except RefundRefused as exc:
            raise StripeError(400, "invalid_request_error", str(exc)) from None
        if refund is None:
            raise StripeError(
                404, "invalid_request_error", f"No such charge: '{params['charge']}'", code="resource_missing"
            )
        return {
            "id": refund.refund_id,
            "object": "refund",
            "amount": refund.amount_cents,
            "charge": refund.charge_id,
            "currency": refund.currency.lower(),
            "metadata": {"order_id": refund.order_id},
            "status": "succeeded",
        }

    async def _intent(self, intent_id: str) -> Json:
        raw = await self._sim.redis.hget(self._intents, intent_id)
        if raw is None:
            raise StripeError(404, "invalid_request_error", f"No such payment_intent: '{intent_id}'")
        intent: Json = json.loads(raw)
        return intent

    async def _save(self, intent: Json) -> None:
        await self._sim.redis.hset(self._intents, intent["id"], json.dumps(intent))


class StripeProvider:
    """payment_gateway's operations on Stripe: template commands in, template replies out."""

    def __init__(self, settings: PaymentSimulatorSettings) -> None:
        self.simulation = Simulation(settings)
        self.client = StripeClient(StripeSimulator(self.simulation, settings))

    async def open(self) -> None:
        await self.simulation.open()

    async def close(self) -> None:
        await self.simulation.close()

    async def charge(self, command: ChargePayment, idempotency_key: str) -> PaymentCharged:
        with _stripe_unavailable_is_transient():
            await self.simulation.calls.record("charge", idempotency_key)
            try:
                intent = await self.client.create_payment_intent(
                    amount=command.amount_cents,
                    currency=command.currency.lower(),
                    payment_method=command.card_token,
                    metadata={"order_id": command.order_id},
                    idempotency_key=f"{idempotency_key}:create",
                )
                intent = await self.client.confirm_payment_intent(
                    intent["id"], idempotency_key=f"{idempotency_key}:confirm"
                )
            except StripeError as exc:
                if exc.kind != "card_error":
                    raise
                decline_code = "card_declined" if exc.decline_code == "generic_decline" else exc.decline_code
                raise Declined(
                    PaymentDeclined(reason=exc.message, decline_code=decline_code or "declined")
                ) from None
        return PaymentCharged(
            order_id=command.order_id,
            charge_id=intent["latest_charge"],
            amount_cents=intent["amount"],
            currency=intent["currency"].upper(),
        )

    async def refund(self, command: RefundPayment, idempotency_key: str) -> PaymentRefunded:
        nothing = PaymentRefunded(order_id=command.order_id, refund_id=None, amount_cents=0)
        with _stripe_unavailable_is_transient():
            await self.simulation.calls.record("refund", idempotency_key)
            charge_id = command.charge_id or await self._order_charge(command.order_id)
            if charge_id is None:
                return nothing
            try:
                refund = await self.client.create_refund(
                    charge=charge_id,
                    amount=command.amount_cents,
                    metadata={"order_id": command.order_id},
                    idempotency_key=f"{idempotency_key}:refund",
                )
            except StripeError as exc:
                if exc.code == "resource_missing":
                    return nothing
                if exc.kind == "invalid_request_error":
                    raise Declined(RefundFailed(reason=exc.message)) from None
                raise
        return PaymentRefunded(
            order_id=command.order_id, refund_id=refund["id"], amount_cents=refund["amount"]
        )

    async def _order_charge(self, order_id: str) -> str | None:
        """The order's charge still to refund; if all are refunded, one of them (its refund is replayed)."""
        quoted = order_id.replace("\\", "\\\\").replace("'", "\\'")
        found = await self.client.search_charges(query=f"metadata['order_id']:'{quoted}'")
        charges = found["data"]
        open_charges = [c["id"] for c in charges if not c["refunded"]]
        return open_charges[0] if open_charges else (charges[-1]["id"] if charges else None)


@contextmanager
def _stripe_unavailable_is_transient() -> Iterator[None]:
    with unreachable_is_transient("Stripe"):
        try:
            yield
        except StripeError as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(f"Stripe answered {exc.status}: {exc.message}") from None
            raise
