"""The payment ledger's Lua scripts against the real Redis: idempotent charges, one refund per charge."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis
from sagaline.contracts.testing import delete_keys
from sagaline.simulators import IdempotencyConflict, PaymentLedger, RefundRefused, read_ledger

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def prefix(infra) -> AsyncIterator[str]:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    await delete_keys(infra.redis_url, prefix)


@pytest_asyncio.fixture(loop_scope="session")
async def redis(infra) -> AsyncIterator[Redis]:
    client = Redis.from_url(infra.redis_url, decode_responses=True)
    yield client
    await client.aclose()


async def charge(ledger: PaymentLedger, order_id: str, amount: int = 1000, key: str | None = None):
    return await ledger.charge(
        idempotency_key=key or f"k-{uuid.uuid4()}",
        charge_id=f"ch_{uuid.uuid4().hex[:8]}",
        order_id=order_id,
        amount_cents=amount,
        currency="USD",
    )


async def refund(
    ledger: PaymentLedger, order_id: str, charge_id: str | None, amount: int = 1000, key: str = ""
):
    return await ledger.refund(
        idempotency_key=key or f"r-{uuid.uuid4()}",
        refund_id=f"re_{uuid.uuid4().hex[:8]}",
        order_id=order_id,
        charge_id=charge_id,
        amount_cents=amount,
    )


async def test_a_charge_replayed_with_its_key_returns_the_first_charge(redis, prefix):
    ledger = PaymentLedger(redis, prefix, "stripe")
    first = await charge(ledger, "ord-1", key="k1")
    again = await charge(ledger, "ord-1", key="k1")
    assert again == first
    assert (await ledger.snapshot()).charges == (first,)


async def test_a_key_reused_for_another_order_is_a_conflict_and_charges_nothing(redis, prefix):
    ledger = PaymentLedger(redis, prefix, "stripe")
    await charge(ledger, "ord-1", key="k1")
    with pytest.raises(IdempotencyConflict):
        await charge(ledger, "ord-2", key="k1")
    assert (await ledger.snapshot()).charges_for("ord-2") == []


async def test_refunding_an_order_that_was_never_charged_records_nothing(redis, prefix):
    ledger = PaymentLedger(redis, prefix, "paypal")
    assert await refund(ledger, "ord-x", None, key="r1") is None
    assert await refund(ledger, "ord-x", "ch_unknown") is None
    # The answer for a key stands, even if the order is charged later.
    await charge(ledger, "ord-x")
    assert await refund(ledger, "ord-x", None, key="r1") is None
    assert (await ledger.snapshot()).refunds == ()


async def test_a_refund_without_a_charge_id_refunds_the_orders_charge_once(redis, prefix):
    ledger = PaymentLedger(redis, prefix, "stripe")
    charged = await charge(ledger, "ord-1", amount=700)
    first = await refund(ledger, "ord-1", None, amount=700)
    by_id = await refund(ledger, "ord-1", charged.charge_id, amount=700)
    assert first is not None
    assert first.charge_id == charged.charge_id
    assert by_id == first
    assert await ledger.charges_for_order("ord-1") == [(charged, first.refund_id)]


async def test_a_refund_naming_another_orders_charge_or_more_than_charged_is_refused(redis, prefix):
    ledger = PaymentLedger(redis, prefix, "stripe")
    charged = await charge(ledger, "ord-1", amount=500)
    with pytest.raises(RefundRefused, match="does not belong"):
        await refund(ledger, "ord-2", charged.charge_id, amount=500)
    with pytest.raises(RefundRefused, match="exceeds"):
        await refund(ledger, "ord-1", charged.charge_id, amount=501)
    assert (await ledger.snapshot()).refunds == ()


async def test_read_ledger_combines_providers_so_a_double_charge_across_them_shows(redis, prefix):
    await charge(PaymentLedger(redis, prefix, "stripe"), "ord-1")
    await charge(PaymentLedger(redis, prefix, "paypal"), "ord-1")
    snapshot = await read_ledger(redis, prefix, ["stripe", "paypal"])
    assert len(snapshot.charges_for("ord-1")) == 2
    [problem] = snapshot.problems()
    assert problem.startswith("order ord-1 is charged 2 times")
