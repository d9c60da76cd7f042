"""The payment ledger: a simulated payment provider's books of charges and refunds, in Redis.

One hash per provider holds everything, so each write is one atomic Lua call on one key (and works
on Redis Cluster). A charge is idempotent by the provider request's idempotency key: a replayed
request returns the charge it made the first time. A charge is refunded at most once, and a refund
of an order the provider never charged records nothing.

Tests and the demo read it back with ``PaymentLedger.snapshot`` or ``read_ledger`` (several
providers at once) and check ``LedgerSnapshot.problems()`` is empty.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

from redis.asyncio import Redis


def ledger_key(redis_prefix: str, provider: str) -> str:
    return f"{redis_prefix}sim:{provider}:ledger"


@dataclass(frozen=True)
class Charge:
    charge_id: str
    order_id: str
    amount_cents: int
    currency: str
    idempotency_key: str
    provider: str


@dataclass(frozen=True)
class Refund:
    refund_id: str
    charge_id: str
    order_id: str
    amount_cents: int
    currency: str
    idempotency_key: str
    provider: str


class IdempotencyConflict(Exception):
    """An idempotency key was reused for a different charge (a caller bug, never retried)."""


class RefundRefused(Exception):
    """The refund names another order's charge or exceeds the amount charged."""


# ARGV: idempotency key, charge id, order id, charge record (JSON).
# Returns the charge that stands for this key: the new one, or the one made the first time.
_CHARGE = """
local key = KEYS[1]
local earlier = redis.call('HGET', key, 'idem:charge:' .. ARGV[1])
if earlier then
  return redis.call('HGET', key, 'charge:' .. earlier)
end
redis.call('HSET', key, 'idem:charge:' .. ARGV[1], ARGV[2], 'charge:' .. ARGV[2], ARGV[4])
local index = redis.call('HGET', key, 'order:' .. ARGV[3])
local ids = {}
if index then ids = cjson.decode(index) end
table.insert(ids, ARGV[2])
redis.call('HSET', key, 'order:' .. ARGV[3], cjson.encode(ids))
return ARGV[4]
"""

# ARGV: idempotency key, new refund id, order id, charge id ('' = the order's charge), amount.
# Returns {status, refund record or ''}; status is refunded | replayed | none | other_order | exceeds.
_REFUND = """
local key = KEYS[1]
local idem = 'idem:refund:' .. ARGV[1]
local done = redis.call('HGET', key, idem)
if done then
  if done == '' then return {'none', ''} end
  return {'replayed', redis.call('HGET', key, 'refund:' .. done)}
end
local target = nil
if ARGV[4] ~= '' then
  if redis.call('HEXISTS', key, 'charge:' .. ARGV[4]) == 1 then target = ARGV[4] end
else
  local index = redis.call('HGET', key, 'order:' .. ARGV[3])
  if index then
    -- The first charge not refunded yet; if all are, the last one (its refund is replayed).
    for _, id in ipairs(cjson.decode(index)) do
      target = id
      if redis.call('HEXISTS', key, 'refunded:' .. id) == 0 then break end
    end
  end
end
if not target then
  redis.call('HSET', key, idem, '')
  return {'none', ''}
end
local charge = cjson.decode(redis.call('HGET', key, 'charge:' .. target))
if charge['order_id'] ~= ARGV[3] then return {'other_order', ''} end
local earlier = redis.call('HGET', key, 'refunded:' .. target)
if earlier then
  redis.call('HSET', key, idem, earlier)
  return {'replayed', redis.call('HGET', key, 'refund:' .. earlier)}
end
if tonumber(ARGV[5]) > tonumber(charge['amount_cents']) then return {'exceeds', ''} end
local record = cjson.encode({
  refund_id = ARGV[2], charge_id = target, order_id = ARGV[3], amount_cents = tonumber(ARGV[5]),
  currency = charge['currency'], idempotency_key = ARGV[1], provider = charge['provider']})
redis.call('HSET', key, 'refund:' .. ARGV[2], record, 'refunded:' .. target, ARGV[2], idem, ARGV[2])
return {'refunded', record}
"""


class PaymentLedger:
    """One provider's books. The simulator writes; anyone may read a ``snapshot``."""

    def __init__(self, redis: Redis, redis_prefix: str, provider: str) -> None:
        self._redis = redis
        self.provider = provider
        self.key = ledger_key(redis_prefix, provider)
        self._charge = redis.register_script(_CHARGE)
        self._refund = redis.register_script(_REFUND)

    async def charge(
        self, *, idempotency_key: str, charge_id: str, order_id: str, amount_cents: int, currency: str
    ) -> Charge:
        """Record a charge, or return the one already made with this idempotency key."""
        new = Charge(charge_id, order_id, amount_cents, currency, idempotency_key, self.provider)
        stored = await self._charge(keys=[self.key], args=[idempotency_key, charge_id, order_id, _dumps(new)])
        standing = Charge(**json.loads(stored))
        if (standing.order_id, standing.amount_cents, standing.currency) != (
            order_id,
            amount_cents,
            currency,
        ):
            raise IdempotencyConflict(f"idempotency key {idempotency_key!r} was used for another charge")
        return standing

    async def refund(
        self,
        *,
        idempotency_key: str,
        refund_id: str,
        order_id: str,
        charge_id: str | None,
        amount_cents: int,
    ) -> Refund | None:
        """Refund ``charge_id`` (or the order's charge when None) once; None when nothing was charged."""
        status, stored = await self._refund(
            keys=[self.key], args=[idempotency_key, refund_id, order_id, charge_id or "", amount_cents]
        )
        status = _text(status)
        if status == "other_order":
            raise RefundRefused(f"charge {charge_id} does not belong to order {order_id}")
        if status == "exceeds":
            raise RefundRefused(f"refund of {amount_cents} exceeds the amount charged")
        if status == "none":
            return None
        return Refund(**json.loads(stored))

    async def charges_for_order(self, order_id: str) -> list[tuple[Charge, str | None]]:
        """The order's charges in the order they were made, each with its refund id (None: not refunded)."""
        index = await self._redis.hget(self.key, f"order:{order_id}")
        if index is None:
            return []
        ids: list[str] = json.loads(index)
        records = await self._redis.hmget(self.key, [f"charge:{i}" for i in ids])
        refunds = await self._redis.hmget(self.key, [f"refunded:{i}" for i in ids])
        # The index and the charge records are written in one Lua call: a listed charge exists.
        return [
            (Charge(**json.loads(record or "")), _text(refund) if refund is not None else None)
            for record, refund in zip(records, refunds, strict=True)
        ]

    async def snapshot(self) -> LedgerSnapshot:
        raw = await self._redis.hgetall(self.key)
        charges, refunds = [], []
        for name, value in raw.items():
            kind, _, _ = _text(name).partition(":")
            if kind == "charge":
                charges.append(Charge(**json.loads(value)))
            elif kind == "refund":
                refunds.append(Refund(**json.loads(value)))
        return LedgerSnapshot(tuple(charges), tuple(refunds))


async def read_ledger(redis: Redis, redis_prefix: str, providers: Iterable[str]) -> LedgerSnapshot:
    """The books of several payment providers as one snapshot (e.g. stripe and paypal)."""
    snapshots = [await PaymentLedger(redis, redis_prefix, p).snapshot() for p in providers]
    return LedgerSnapshot(
        tuple(c for s in snapshots for c in s.charges), tuple(r for s in snapshots for r in s.refunds)
    )


@dataclass(frozen=True)
class LedgerSnapshot:
    charges: tuple[Charge, ...] = ()
    refunds: tuple[Refund, ...] = ()
    _by_order: dict[str, list[Charge]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_order: defaultdict[str, list[Charge]] = defaultdict(list)
        for charge in self.charges:
            by_order[charge.order_id].append(charge)
        object.__setattr__(self, "_by_order", dict(by_order))

    def charges_for(self, order_id: str) -> list[Charge]:
        return list(self._by_order.get(order_id, []))

    def refunds_for(self, order_id: str) -> list[Refund]:
        return [r for r in self.refunds if r.order_id == order_id]

    def net_cents(self, order_id: str) -> int:
        """Charged minus refunded for one order, over every provider in the snapshot."""
        charged = sum(c.amount_cents for c in self.charges_for(order_id))
        return charged - sum(r.amount_cents for r in self.refunds_for(order_id))

    def for_orders(self, order_ids: Iterable[str]) -> LedgerSnapshot:
        """Only these orders' charges and refunds, e.g. one demo run's in books shared with others."""
        wanted = set(order_ids)
        return LedgerSnapshot(
            tuple(c for c in self.charges if c.order_id in wanted),
            tuple(r for r in self.refunds if r.order_id in wanted),
        )

    def problems(self) -> list[str]:
        """Every way the books are wrong; empty when no order is charged twice and every refund
        matches one charge of its order, at most once and for no more than was charged."""
        found: list[str] = []
        charges = {(c.provider, c.charge_id): c for c in self.charges}
        refunded = {(r.provider, r.charge_id) for r in self.refunds}
        for order_id, order_charges in self._by_order.items():
            standing = [c for c in order_charges if (c.provider, c.charge_id) not in refunded]
            if len(standing) > 1:
                found.append(f"order {order_id} is charged {len(standing)} times: {_ids(standing)}")
        per_charge = Counter((r.provider, r.charge_id) for r in self.refunds)
        for refund in self.refunds:
            charge = charges.get((refund.provider, refund.charge_id))
            if charge is None:
                found.append(f"refund {refund.refund_id} matches no charge ({refund.charge_id})")
            elif charge.order_id != refund.order_id:
                found.append(
                    f"refund {refund.refund_id} is for {refund.order_id}, its charge for {charge.order_id}"
                )
            elif refund.amount_cents > charge.amount_cents:
                found.append(f"refund {refund.refund_id} exceeds charge {charge.charge_id}")
        for (provider, charge_id), count in per_charge.items():
            if count > 1:
                found.append(f"charge {charge_id} at {provider} is refunded {count} times")
        return found


def _ids(charges: list[Charge]) -> str:
    return ", ".join(f"{c.provider}:{c.charge_id}" for c in charges)


def _dumps(charge: Charge) -> str:
    return json.dumps(asdict(charge), separators=(",", ":"))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
