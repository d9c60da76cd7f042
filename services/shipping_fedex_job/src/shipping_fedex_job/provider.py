"""FedEx: shipping commands become Ship API and Track API requests.

No real FedEx is reachable here, so ``FedExClient`` talks to ``FedExSimulator``, which answers the
same requests with the same payloads and errors from the carrier's books in Redis. An HTTP transport
to apis.fedex.com in its place would leave the client and ``FedExProvider`` as they are.

Create: book a one-package shipment whose customer reference is the order id; report the master
tracking number (shipment id) and the package's tracking number. Cancel: find the order's live
shipment by its reference (Track API), then cancel it. The carrier keeps one live shipment per
reference, so a create repeated after a crash never ships an order twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sagaline.contracts.job import Declined, TransientError
from sagaline.contracts.templates.shipping import (
    CancelShipment,
    CreateShipment,
    ShipmentCancelled,
    ShipmentCreated,
    ShipmentRejected,
)
from sagaline.simulators import (
    CarrierSimulatorSettings,
    Shipment,
    ShipmentBook,
    Simulation,
    unreachable_is_transient,
)

Json = dict[str, Any]

SERVICE_TYPE = "FEDEX_GROUND"
# Where parcels leave from; a real deployment would read the shipper and account from its settings.
_SHIPPER = {
    "contact": {"personName": "Sagaline Fulfilment", "companyName": "Sagaline"},
    "address": {
        "streetLines": ["1 Warehouse Way"],
        "city": "Memphis",
        "postalCode": "38118",
        "countryCode": "US",
    },
}
_ACCOUNT = {"value": "740561073"}
_REJECTIONS = {"RECIPIENT.COUNTRY.NOTSERVED", "RECIPIENT.POSTALCODE.INVALID"}


class FedExError(Exception):
    """FedEx's error response (``errors[0]``); raised for every status >= 400."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class FedExTransport(Protocol):
    async def request(self, method: str, path: str, body: Json, transaction_id: str = "") -> Json: ...


class FedExClient:
    """The REST calls of FedEx's Ship and Track APIs, over a transport."""

    def __init__(self, transport: FedExTransport) -> None:
        self._transport = transport

    async def create_shipment(self, recipient: Json, *, reference: str, transaction_id: str) -> Json:
        body = {
            "labelResponseOptions": "LABEL",
            "accountNumber": _ACCOUNT,
            "requestedShipment": {
                "shipper": _SHIPPER,
                "recipients": [recipient],
                "serviceType": SERVICE_TYPE,
                "packagingType": "YOUR_PACKAGING",
                "pickupType": "USE_SCHEDULED_PICKUP",
                "requestedPackageLineItems": [
                    {
                        "weight": {"units": "KG", "value": 1},
                        "customerReferences": [
                            {"customerReferenceType": "CUSTOMER_REFERENCE", "value": reference}
                        ],
                    }
                ],
            },
        }
        return await self._transport.request("POST", "/ship/v1/shipments", body, transaction_id)

    async def track_by_reference(self, reference: str, *, transaction_id: str) -> Json:
        body = {
            "referencesInformation": {
                "type": "CUSTOMER_REFERENCE",
                "value": reference,
                "accountNumber": _ACCOUNT["value"],
            }
        }
        return await self._transport.request("POST", "/track/v1/referencenumbers", body, transaction_id)

    async def cancel_shipment(self, tracking_number: str, *, transaction_id: str) -> Json:
        body = {
            "accountNumber": _ACCOUNT,
            "trackingNumber": tracking_number,
            "deletionControl": "DELETE_ALL_PACKAGES",
        }
        return await self._transport.request("PUT", "/ship/v1/shipments/cancel", body, transaction_id)


class FedExSimulator:
    """The part of FedEx's API this job uses, on the carrier's books."""

    def __init__(self, simulation: Simulation, settings: CarrierSimulatorSettings) -> None:
        self._sim = simulation
        self._settings = settings
        self._book = ShipmentBook(simulation.redis, settings.redis_prefix, settings.provider)

    async def request(self, method: str, path: str, body: Json, transaction_id: str = "") -> Json:
        if await self._sim.unavailable():
            raise FedExError(503, "SERVICE.UNAVAILABLE.ERROR", "The service is currently unavailable.")
        if method == "POST" and path == "/ship/v1/shipments":
            output = await self._create(body["requestedShipment"])
        elif method == "POST" and path == "/track/v1/referencenumbers":
            output = await self._track(body["referencesInformation"]["value"])
        elif method == "PUT" and path == "/ship/v1/shipments/cancel":
            output = await self._cancel(body["trackingNumber"])
        else:
            raise FedExError(404, "NOT.FOUND.ERROR", f"No resource for {method} {path}.")
        return {"transactionId": transaction_id, "output": output}

    async def _create(self, requested: Json) -> Json:
        address = requested["recipients"][0]["address"]
        reason = self._settings.undeliverable(address["countryCode"], address["postalCode"])
        if reason is not None:
            served = address["countryCode"] in self._settings.sim_supported_countries
            raise FedExError(
                422, "RECIPIENT.POSTALCODE.INVALID" if served else "RECIPIENT.COUNTRY.NOTSERVED", reason
            )
        [package] = requested["requestedPackageLineItems"]
        reference = package["customerReferences"][0]["value"]
        shipment = await self._book.book(Shipment(_tracking_number(), reference, requested["serviceType"]))
        piece = {
            "trackingNumber": shipment.tracking_number,
            "customerReferences": package["customerReferences"],
        }
        return {
            "transactionShipments": [
                {
                    "masterTrackingNumber": shipment.tracking_number,
                    "serviceType": shipment.service_type,
                    "pieceResponses": [piece],
                }
            ]
        }

    async def _track(self, reference: str) -> Json:
        live = await self._book.live(reference)
        results = (
            [] if live is None else [{"trackingNumber": live.tracking_number, "status": "LABEL_CREATED"}]
        )
        return {"completeTrackResults": results}

    async def _cancel(self, tracking_number: str) -> Json:
        cancelled = await self._book.cancel(tracking_number)
        message = "Shipment is successfully cancelled." if cancelled else "Shipment is not active."
        return {"cancelledShipment": cancelled, "message": message}


class FedExProvider:
    """shipping's operations on FedEx: template commands in, template replies out."""

    def __init__(self, settings: CarrierSimulatorSettings) -> None:
        self.simulation = Simulation(settings)
        self.client = FedExClient(FedExSimulator(self.simulation, settings))

    async def open(self) -> None:
        await self.simulation.open()

    async def close(self) -> None:
        await self.simulation.close()

    async def create(self, command: CreateShipment, idempotency_key: str) -> ShipmentCreated:
        recipient = {
            "contact": {"personName": command.recipient_name},
            "address": {
                "streetLines": [command.address_line],
                "city": command.city,
                "postalCode": command.postal_code,
                "countryCode": command.country,
            },
        }
        with _fedex_unavailable_is_transient():
            await self.simulation.calls.record("create", idempotency_key)
            try:
                answer = await self.client.create_shipment(
                    recipient, reference=command.order_id, transaction_id=idempotency_key
                )
            except FedExError as exc:
                if exc.code not in _REJECTIONS:
                    raise
                raise Declined(ShipmentRejected(reason=exc.message)) from None
        [shipment] = answer["output"]["transactionShipments"]
        [piece] = shipment["pieceResponses"]
        return ShipmentCreated(
            order_id=command.order_id,
            shipment_id=shipment["masterTrackingNumber"],
            tracking_number=piece["trackingNumber"],
        )

    async def cancel(self, command: CancelShipment, idempotency_key: str) -> ShipmentCancelled:
        with _fedex_unavailable_is_transient():
            await self.simulation.calls.record("cancel", idempotency_key)
            tracked = await self.client.track_by_reference(command.order_id, transaction_id=idempotency_key)
            cancelled = False
            for result in tracked["output"]["completeTrackResults"]:
                answer = await self.client.cancel_shipment(
                    result["trackingNumber"], transaction_id=idempotency_key
                )
                cancelled = cancelled or bool(answer["output"]["cancelledShipment"])
        return ShipmentCancelled(order_id=command.order_id, cancelled=cancelled)


def _tracking_number() -> str:
    return str(secrets.randbelow(10**12)).zfill(12)


@contextmanager
def _fedex_unavailable_is_transient() -> Iterator[None]:
    with unreachable_is_transient("FedEx"):
        try:
            yield
        except FedExError as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientError(f"FedEx answered {exc.status}: {exc.message}") from None
            raise
