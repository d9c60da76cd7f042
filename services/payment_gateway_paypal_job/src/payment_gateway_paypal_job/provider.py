"""PayPal: payment_gateway commands become Orders v2 and Payments v2 requests.

No real PayPal is reachable here, so ``PayPalClient`` talks to ``PayPalSimulator``, which answers
the same requests with the same resources and errors from state in Redis. An HTTP transport to
api-m.paypal.com in its place would leave the client and ``PayPalProvider`` as they are.

Charge: create an order (intent CAPTURE, one purchase unit whose reference_id and invoice_id are the
order id, the vaulted card as payment source), capture it, report the capture id. Refund: refund
that capture; without a capture id, find the order's captures by invoice id first (Transaction
Search). Every request carries a PayPal-Request-Id derived from the command's idempotency key, so a
request repeated after a crash is answered with what it did the first time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
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

_CAPTURE = re.compile(r"/v2/checkout/orders/(?P<id>[A-Z0-9]+)/capture")
_REFUND = re.compile(r"/v2/payments/captures/(?P<id>[A-Z0-9]+)/refund")
_ISSUES = {
    "card_declined": ("INSTRUMENT_DECLINED", "The instrument presented was declined."),
    "insufficient_funds": ("INSUFFICIENT_FUNDS", "The instrument has insufficient funds."),
}
_DECLINE_CODES = {issue: code for code, (issue, _) in _ISSUES.items()}


class PayPalError(Exception):
    """PayPal's error response; raised for every status >= 400. ``issue`` is ``details[0].issue``."""

    def __init__(self, status: int, name: str, message: str, *, issue: str | None = None) -> None:
        super().__init__(f"{status} {name}: {message}")
        self.status = status
        self.name = name
        self.message = message
        self.issue = issue


class PayPalTransport(Protocol):
    async def request(self, method: str, path: str, body: Json, request_id: str = "") -> Json: ...


class PayPalClient:
    """The REST calls PayPal's server SDK would make, over a transport."""

    def __init__(self, transport: PayPalTransport) -> None:
        self._transport = transport

    async def create_order(
        self, *, value: str, currency: str, reference_id: str, card_token: str, request_id: str
    ) -> Json:
        body = {
            "intent": "CAPTURE",
            "purchase_units": [
                {
                    "reference_id": reference_id,
                    "invoice_id": reference_id,
                    "amount": {"currency_code": currency, "value": value},
                }
            ],
            "payment_source": {"card": {"vault_id": card_token}},
        }
        return await self._transport.request("POST", "/v2/checkout/orders", body, request_id)

    async def capture_order(self, order_id: str, *, request_id: str) -> Json:
        return await self._transport.request(
            "POST", f"/v2/checkout/orders/{order_id}/capture", {}, request_id
        )

    async def search_transactions(self, *, invoice_id: str) -> Json:
        return await self._transport.request("GET", "/v1/reporting/transactions", {"invoice_id": invoice_id})

    async def refund_capture(
        self, capture_id: str, *, value: str, currency: str, invoice_id: str, request_id: str
    ) -> Json:
        body = {"amount": {"currency_code": currency, "value": value}, "invoice_id": invoice_id}
        return await self._transport.request(
            "POST", f"/v2/payments/captures/{capture_id}/refund", body, request_id
        )


class PayPalSimulator:
    """The part of PayPal's API this job uses. Captures and refunds go to the payment ledger."""

    def __init__(self, simulation: Simulation, settings: PaymentSimulatorSettings) -> None:
        self._sim = simulation
        self._settings = settings
        self._ledger = PaymentLedger(simulation.redis, settings.redis_prefix, settings.provider)
        self._orders = f"{settings.redis_prefix}sim:{settings.provider}:orders"

    async def request(self, method: str, path: str, body: Json, request_id: str = "") -> Json:
        if await self._sim.unavailable():
            raise PayPalError(503, "SERVICE_UNAVAILABLE", "Service Unavailable.")
        if method == "POST" and path == "/v2/checkout/orders":
            return await self._create_order(body, request_id)
        if method == "POST" and (capture := _CAPTURE.fullmatch(path)):
            return await self._capture_order(capture["id"], request_id)
        if method == "GET" and path == "/v1/reporting/transactions":
            return await self._search(body["invoice_id"])
        if method == "POST" and (refund := _REFUND.fullmatch(path)):
            return await self._refund(refund["id"], body, request_id)
        raise PayPalError(404, "RESOURCE_NOT_FOUND", f"No route for {method} {path}.")

    async def _create_order(self, body: Json, request_id: str) -> Json:
        # An id derived from PayPal-Request-Id makes a repeated create return the same order.
        order = {
            "id": _paypal_id(request_id),
            "intent": body["intent"],
            "status": "CREATED",
            "purchase_units": body["purchase_units"],
            "payment_source": body["payment_source"],
        }
        await self._sim.redis.hsetnx(self._orders, order["id"], json.dumps(order))
        stored = await self._order(order["id"])
        # A captured order's units also list their payments; the request only gave the rest.
        asked = [{k: v for k, v in unit.items() if k != "payments"} for unit in stored["purchase_units"]]
        if (asked, stored["payment_source"]) != (order["purchase_units"], order["payment_source"]):
            raise PayPalError(422, "UNPROCESSABLE_ENTITY", "Request id reused.", issue="DUPLICATE_REQUEST_ID")
        return stored

    async def _capture_order(self, order_id: str, request_id: str) -> Json:
        order = await self._order(order_id)
        if order["status"] == "COMPLETED":
            return order
        unit = order["purchase_units"][0]
        cents = _cents(unit["amount"]["value"])
        decline = self._settings.issuer_decline(order["payment_source"]["card"]["vault_id"], cents)
        if decline is not None:
            issue, message = _ISSUES[decline]
            raise PayPalError(422, "UNPROCESSABLE_ENTITY", message, issue=issue)
        try:
            charge = await self._ledger.charge(
                idempotency_key=request_id,
                charge_id=_paypal_id(uuid.uuid4().hex),
                order_id=unit["reference_id"],
                amount_cents=cents,
                currency=unit["amount"]["currency_code"],
            )
        except IdempotencyConflict as exc:
            raise PayPalError(422, "UNPROCESSABLE_ENTITY", str(exc), issue="DUPLICATE_REQUEST_ID") from None
        capture = {"id": charge.charge_id, "status": "COMPLETED", "amount": unit["amount"]}
        order = {
            **order,
            "status": "COMPLETED",
            "purchase_units": [{**unit, "payments": {"captures": [capture]}}],
        }
        await self._sim.redis.hset(self._orders, order_id, json.dumps(order))
        return order

    async def _search(self, invoice_id: str) -> Json:
        details = [
            {
                "transaction_info": {
                    "transaction_id": charge.charge_id,
                    "invoice_id": charge.order_id,
                    "transaction_amount": {
                        "currency_code": charge.currency,
                        "value": _value(charge.amount_cents),
                    },
                    # S: success, V: reversed (refunded).
                    "transaction_status": "V" if refund_id else "S",
                }
            }
            for charge, refund_id in await self._ledger.charges_for_order(invoice_id)
        ]
        return {"transaction_details": details, "total_items": len(details)}

    async def _refund(self, capture_id: str, body: Json, request_id: str) -> Json:
        try:
            refund = await self._ledger.refund(
                idempotency_key=request_id,
                refund_id=_paypal_id(uuid.uuid4().hex),
                order_id=body["invoice_id"],
                charge_id=capture_id,
                amount_cents=_cents(body["amount"]["value"]),
            )
        except RefundRefused as exc:
            raise PayPalError(422, "UNPROCESSABLE_ENTITY", str(exc), issue="REFUND_NOT_ALLOWED") from None
        if refund is None:
            raise PayPalError(
                404,
                "RESOURCE_NOT_FOUND",
                "The specified resource does not exist.",
                issue="INVALID_RESOURCE_ID",
            )
        return {
            "id": refund.refund_id,
            "status": "COMPLETED",
            "amount": {"currency_code": refund.currency, "value": _value(refund.amount_cents)},
            "invoice_id": refund.order_id,
        }

    async def _order(self, order_id: str) -> Json:
        raw = await self._sim.redis.hget(self._orders, order_id)
        if raw is None:
            raise PayPalError(
                404, "RESOURCE_NOT_FOUND", f"Order {order_id} does not exist.", issue="INVALID_RESOURCE_ID"
            )
        order: Json = json.loads(raw)
        return order


class PayPalProvider:
    """payment_gateway's operations on PayPal: template commands in, template replies out."""

    def __init__(self, settings: PaymentSimulatorSettings) -> None:
        self.simulation = Simulation(settings)
        self.client = PayPalClient(PayPalSimulator(self.simulation, settings))

    async def open(self) -> None:
        await self.simulation.open()

    async def close(self) -> None:
        await self.simulation.close()

    async def charge(self, command: ChargePayment, idempotency_key: str) -> PaymentCharged:
        with _paypal_unavailable_is_transient():
            await self.simulation.calls.record("charge", idempotency_key)
            try:
                order = await self.client.create_order(
                    value=_value(command.amount_cents),
                    currency=command.currency,
                    reference_id=command.order_id,
                    card_token=command.card_token,
                    request_id=f"{idempotency_key}:create",
                )
                order = await self.client.capture_order(order["id"], request_id=f"{idempotency_key}:capture")
            except PayPalError as exc:
                if exc.issue not in _DECLINE_CODES:
                    raise
                raise Declined(
                    PaymentDeclined(reason=exc.message, decline_code=_DECLINE_CODES[exc.issue])
                ) from None
        [capture] = order["purchase_units"][0]["payments"]["captures"]
        return PaymentCharged(
            order_id=command.order_id,
            charge_id=capture["id"],
            amount_cents=_cents(capture["amount"]["value"]),
            currency=capture["amount"]["currency_code"],
        )

    async def refund(self, command: RefundPayment, idempotency_key: str) -> PaymentRefunded:
        nothing = PaymentRefunded(order_id=command.order_id, refund_id=None, amount_cents=0)
        with _paypal_unavailable_is_transient():
            await self.simulation.calls.record("refund", idempotency_key)
            capture_id = command.charge_id or await self._order_capture(command.order_id)
            if capture_id is None:
                return nothing
            try:
                refund = await self.client.refund_capture(
                    capture_id,
                    value=_value(command.amount_cents),
                    currency=command.currency,
                    invoice_id=command.order_id,
                    request_id=f"{idempotency_key}:refund",
                )
            except PayPalError as exc:
                if exc.status == 404:
                    return nothing
                if exc.status == 422:
                    raise Declined(RefundFailed(reason=exc.message)) from None
                raise
        return PaymentRefunded(
            order_id=command.order_id, refund_id=refund["id"], amount_cents=_cents(refund["amount"]["value"])
        )

    async def _order_capture(self, order_id: str) -> str | None:
        """The order's capture still to refund; if all are refunded, one of them (its refund is replayed)."""
        found = await self.client.search_transactions(invoice_id=order_id)
        infos = [d["transaction_info"] for d in found["transaction_details"]]
        open_captures = [i["transaction_id"] for i in infos if i["transaction_status"] == "S"]
        return open_captures[0] if open_captures else (infos[-1]["transaction_id"] if infos else None)


def _paypal_id(seed: str) -> str:
    """A 17-character id like PayPal's (``5O190127TN364715T``), stable for one seed."""
    return base64.b32encode(hashlib.sha256(seed.encode()).digest()).decode()[:17]


def _value(cents: int) -> str:
    """Minor units as PayPal's decimal string (USD, EUR and GBP all have two decimals)."""
    return f"{cents // 100}.{cents % 100:02d}"


def _cents(value: str) -> int:
    return int(Decimal(value) * 100)


@contextmanager
def _paypal_unavailable_is_transient() -> Iterator[None]:
    with unreachable_is_transient("PayPal"):
        try:
            yield
        except PayPalError as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(f"PayPal answered {exc.status}: {exc.message}") from None
            raise
