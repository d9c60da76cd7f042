"""The demo's order mix: mostly good orders, some declined cards, some undeliverable addresses."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SKUS = ("sku-kettle", "sku-teapot", "sku-mug", "sku-tray")
DECLINED_CARD = "tok_declined"
GOOD_CARD = "tok_visa"
UNDELIVERABLE_POSTCODE = "00000"


@dataclass(frozen=True)
class DemoOrder:
    kind: str  # "good" | "declined" | "undeliverable"
    data: dict[str, Any]

    @property
    def order_id(self) -> str:
        return str(self.data["order_id"])


def make_orders(
    count: int, run_id: str, seed: int = 7, declined: float = 0.1, undeliverable: float = 0.08
) -> list[DemoOrder]:
    return list(iter_orders(run_id, seed, declined, undeliverable, count=count))


def iter_orders(
    run_id: str,
    seed: int = 7,
    declined: float = 0.1,
    undeliverable: float = 0.08,
    count: int | None = None,
) -> Iterator[DemoOrder]:
    """Orders one at a time (``count=None``: without end), so a long run holds none in memory."""
    rng = random.Random(seed)
    i = 0
    while count is None or i < count:
        roll = rng.random()
        kind = (
            "declined" if roll < declined else "undeliverable" if roll < declined + undeliverable else "good"
        )
        data = {
            "order_id": f"{run_id}-{i:05d}",
            "customer_email": f"customer{i}@example.com",
            "items": [{"sku": rng.choice(SKUS), "quantity": rng.randint(1, 3)}],
            "amount_cents": rng.randint(500, 20_000),
            "currency": "USD",
            "card_token": DECLINED_CARD if kind == "declined" else GOOD_CARD,
            "recipient_name": f"Customer {i}",
            "address_line": f"{i} Main Street",
            "city": "Springfield",
            "postal_code": UNDELIVERABLE_POSTCODE if kind == "undeliverable" else f"{10000 + i % 89999}",
            "country": "US",
        }
        yield DemoOrder(kind, data)
        i += 1
