"""Fixtures for the saga core's unit tests."""

from __future__ import annotations

import pytest
from sagaline.saga.workflows import OrderData


@pytest.fixture
def order() -> OrderData:
    return OrderData(
        order_id="ord-1",
        customer_email="ada@example.com",
        items=[{"sku": "sku-mug", "quantity": 2}],
        amount_cents=2599,
        currency="EUR",
        card_token="tok_visa",
        recipient_name="Ada Lovelace",
        address_line="12 St James's Square",
        city="London",
        postal_code="SW1Y 4JH",
        country="GB",
    )
