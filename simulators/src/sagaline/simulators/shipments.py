"""The carrier's books: shipments by tracking number and the one live shipment per order, in Redis.

One hash per carrier, each write one atomic Lua call. Booking is idempotent by order (the order id is
the shipment's customer reference): a repeated booking returns the live shipment instead of making a
second one, so a provider call repeated after a crash never ships twice.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from redis.asyncio import Redis


def shipments_key(redis_prefix: str, provider: str) -> str:
    return f"{redis_prefix}sim:{provider}:shipments"


@dataclass(frozen=True)
class Shipment:
    tracking_number: str
    order_id: str
    service_type: str
    cancelled: bool = False


# ARGV: order id, tracking number, shipment record (JSON). Returns the order's live shipment.
_BOOK = """
local key = KEYS[1]
local live = redis.call('HGET', key, 'ref:' .. ARGV[1])
if live then
  return redis.call('HGET', key, 'ship:' .. live)
end
redis.call('HSET', key, 'ref:' .. ARGV[1], ARGV[2], 'ship:' .. ARGV[2], ARGV[3])
return ARGV[3]
"""

# ARGV: tracking number. Returns 1 when a live shipment was cancelled, 0 otherwise.
_CANCEL = """
local key = KEYS[1]
local raw = redis.call('HGET', key, 'ship:' .. ARGV[1])
if not raw then return 0 end
local shipment = cjson.decode(raw)
if shipment['cancelled'] then return 0 end
shipment['cancelled'] = true
redis.call('HSET', key, 'ship:' .. ARGV[1], cjson.encode(shipment))
if redis.call('HGET', key, 'ref:' .. shipment['order_id']) == ARGV[1] then
  redis.call('HDEL', key, 'ref:' .. shipment['order_id'])
end
return 1
"""


class ShipmentBook:
    def __init__(self, redis: Redis, redis_prefix: str, provider: str) -> None:
        self._redis = redis
        self.key = shipments_key(redis_prefix, provider)
        self._book = redis.register_script(_BOOK)
        self._cancel = redis.register_script(_CANCEL)

    async def book(self, shipment: Shipment) -> Shipment:
        """Store ``shipment`` unless its order already has a live one; returns the live one."""
        record = json.dumps(asdict(shipment), separators=(",", ":"))
        stored = await self._book(keys=[self.key], args=[shipment.order_id, shipment.tracking_number, record])
        return Shipment(**json.loads(stored))

    async def live(self, order_id: str) -> Shipment | None:
        """The order's shipment that is not cancelled, if any."""
        tracking = await self._redis.hget(self.key, f"ref:{order_id}")
        if tracking is None:
            return None
        return await self.get(tracking if isinstance(tracking, str) else tracking.decode())

    async def get(self, tracking_number: str) -> Shipment | None:
        raw = await self._redis.hget(self.key, f"ship:{tracking_number}")
        return Shipment(**json.loads(raw)) if raw is not None else None

    async def cancel(self, tracking_number: str) -> bool:
        """Cancel a live shipment; False when it is unknown or already cancelled."""
        return bool(await self._cancel(keys=[self.key], args=[tracking_number]))

    async def all(self) -> list[Shipment]:
        raw = await self._redis.hgetall(self.key)
        return [
            Shipment(**json.loads(value))
            for name, value in raw.items()
            if (name if isinstance(name, str) else name.decode()).startswith("ship:")
        ]
