"""Stock levels in Redis, reserved and released per order, each in one atomic Lua call.

``StockStore`` is the stock system itself (not a simulation): one hash per provider holds the units
on hand per SKU and the reservation per order, so an order's lines are checked and taken together
and concurrent reservations can never take more than there is. Reserving is idempotent by order (a
repeated call returns the order's reservation); releasing an order that holds nothing does nothing.

``ReservationProvider`` maps inventory commands onto the store; like a simulated provider it honours
the outage switch and added latency, so tests and the demo can make the stock system unavailable.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis
from sagaline.contracts.job import Declined, TransientError
from sagaline.contracts.templates.inventory import (
    ReleaseStock,
    ReserveStock,
    StockReleased,
    StockReserved,
    StockUnavailable,
)
from sagaline.simulators import Simulation, unreachable_is_transient

from inventory_reservation_job.settings import ReservationSettings

# ARGV: order id, reservation id, then sku, units pairs. A line repeating a SKU adds to it.
# Returns {'reserved', record} (new or the order's existing reservation) or {'short', sku}.
_RESERVE = """
local key = KEYS[1]
local existing = redis.call('HGET', key, 'reservation:' .. ARGV[1])
if existing then return {'reserved', existing} end
local units, skus = {}, {}
for i = 3, #ARGV, 2 do
  local sku = ARGV[i]
  if not units[sku] then units[sku] = 0; table.insert(skus, sku) end
  units[sku] = units[sku] + tonumber(ARGV[i + 1])
end
for _, sku in ipairs(skus) do
  if tonumber(redis.call('HGET', key, 'stock:' .. sku) or '0') < units[sku] then
    return {'short', sku}
  end
end
for _, sku in ipairs(skus) do
  redis.call('HINCRBY', key, 'stock:' .. sku, -units[sku])
end
local record = cjson.encode({reservation_id = ARGV[2], units = units})
redis.call('HSET', key, 'reservation:' .. ARGV[1], record)
return {'reserved', record}
"""

# ARGV: order id. Puts the order's units back; returns 1, or 0 when it held none.
_RELEASE = """
local key = KEYS[1]
local raw = redis.call('HGET', key, 'reservation:' .. ARGV[1])
if not raw then return 0 end
for sku, units in pairs(cjson.decode(raw)['units']) do
  redis.call('HINCRBY', key, 'stock:' .. sku, units)
end
redis.call('HDEL', key, 'reservation:' .. ARGV[1])
return 1
"""


def stock_key(redis_prefix: str, provider: str) -> str:
    return f"{redis_prefix}inventory:{provider}"


@dataclass(frozen=True)
class Reservation:
    order_id: str
    reservation_id: str
    units: dict[str, int]


class OutOfStock(Exception):
    def __init__(self, sku: str) -> None:
        super().__init__(f"not enough units of {sku}")
        self.sku = sku


class StockStore:
    """Units on hand per SKU and reservations per order. ``set_stock``/``stock`` are for operators,
    tests and the demo."""

    def __init__(self, redis: Redis, redis_prefix: str, provider: str) -> None:
        self._redis = redis
        self.key = stock_key(redis_prefix, provider)
        self._reserve = redis.register_script(_RESERVE)
        self._release = redis.register_script(_RELEASE)

    async def set_stock(self, sku: str, units: int) -> None:
        if units < 0:
            raise ValueError("stock cannot be negative")
        await self._redis.hset(self.key, f"stock:{sku}", units)

    async def stock_new_skus(self, units: Mapping[str, int]) -> None:
        """Stock each SKU the store does not know yet; known SKUs keep their level."""
        for sku, count in units.items():
            await self._redis.hsetnx(self.key, f"stock:{sku}", count)

    async def stock(self, sku: str) -> int:
        return int(await self._redis.hget(self.key, f"stock:{sku}") or 0)

    async def reserve(self, order_id: str, lines: list[tuple[str, int]]) -> Reservation:
        """Take every line or none; raises ``OutOfStock`` naming the first SKU that is short."""
        args: list[str | int] = [order_id, f"res_{uuid.uuid4().hex[:20]}"]
        for sku, units in lines:
            args += [sku, units]
        status, value = await self._reserve(keys=[self.key], args=args)
        if _text(status) == "short":
            raise OutOfStock(_text(value))
        record = json.loads(value)
        return Reservation(order_id, record["reservation_id"], record["units"])

    async def release(self, order_id: str) -> bool:
        """Put the order's units back; False when it held none."""
        return bool(await self._release(keys=[self.key], args=[order_id]))

    async def reservation(self, order_id: str) -> Reservation | None:
        raw = await self._redis.hget(self.key, f"reservation:{order_id}")
        if raw is None:
            return None
        record = json.loads(raw)
        return Reservation(order_id, record["reservation_id"], record["units"])


class ReservationProvider:
    """inventory's operations on the stock store: template commands in, template replies out."""

    def __init__(self, settings: ReservationSettings) -> None:
        self.simulation = Simulation(settings)
        self.store = StockStore(self.simulation.redis, settings.redis_prefix, settings.provider)
        self._seed = settings.stock_seed

    async def open(self) -> None:
        await self.simulation.open()
        with unreachable_is_transient("the stock store"):
            await self.store.stock_new_skus(self._seed)

    async def close(self) -> None:
        await self.simulation.close()

    async def reserve(self, command: ReserveStock, idempotency_key: str) -> StockReserved:
        with unreachable_is_transient("the stock store"):
            await self._call("reserve", idempotency_key)
            try:
                reservation = await self.store.reserve(
                    command.order_id, [(line.sku, line.quantity) for line in command.items]
                )
            except OutOfStock as short:
                raise Declined(StockUnavailable(reason=str(short), sku=short.sku)) from None
        return StockReserved(order_id=command.order_id, reservation_id=reservation.reservation_id)

    async def release(self, command: ReleaseStock, idempotency_key: str) -> StockReleased:
        with unreachable_is_transient("the stock store"):
            await self._call("release", idempotency_key)
            released = await self.store.release(command.order_id)
        return StockReleased(order_id=command.order_id, released=released)

    async def _call(self, operation: str, idempotency_key: str) -> None:
        await self.simulation.calls.record(operation, idempotency_key)
        if await self.simulation.unavailable():
            raise TransientError("the stock store is unavailable (simulated outage)")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
