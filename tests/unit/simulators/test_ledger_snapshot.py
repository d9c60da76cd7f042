"""LedgerSnapshot.problems() names every way the books can be wrong."""

from __future__ import annotations

import pytest
from sagaline.simulators import Charge, LedgerSnapshot, Refund

pytestmark = pytest.mark.unit


def charge(charge_id: str, order_id: str, amount: int = 1000, provider: str = "stripe") -> Charge:
    return Charge(charge_id, order_id, amount, "USD", f"k-{charge_id}", provider)


def refund(
    refund_id: str, charge_id: str, order_id: str, amount: int = 1000, provider: str = "stripe"
) -> Refund:
    return Refund(refund_id, charge_id, order_id, amount, "USD", f"r-{refund_id}", provider)


def test_balanced_books_have_no_problems_and_refunded_orders_net_zero():
    snapshot = LedgerSnapshot(
        charges=(charge("ch1", "o1"), charge("ch2", "o2", provider="paypal")),
        refunds=(refund("re1", "ch1", "o1"),),
    )
    assert snapshot.problems() == []
    assert (snapshot.net_cents("o1"), snapshot.net_cents("o2")) == (0, 1000)


def test_an_order_charged_twice_without_a_refund_is_a_double_charge():
    twice = LedgerSnapshot(charges=(charge("ch1", "o1"), charge("ch2", "o1", provider="paypal")))
    assert twice.problems() == ["order o1 is charged 2 times: stripe:ch1, paypal:ch2"]
    refunded_once = LedgerSnapshot(charges=twice.charges, refunds=(refund("re1", "ch1", "o1"),))
    assert refunded_once.problems() == []


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (refund("re9", "ch404", "o1"), "refund re9 matches no charge (ch404)"),
        (refund("re9", "ch1", "o1", provider="paypal"), "refund re9 matches no charge (ch1)"),
        (refund("re9", "ch1", "o2"), "refund re9 is for o2, its charge for o1"),
        (refund("re9", "ch1", "o1", amount=1001), "refund re9 exceeds charge ch1"),
    ],
)
def test_a_refund_that_matches_no_charge_of_its_order_is_named(bad, expected):
    snapshot = LedgerSnapshot(charges=(charge("ch1", "o1"),), refunds=(bad,))
    assert expected in snapshot.problems()


def test_a_charge_refunded_twice_is_named():
    snapshot = LedgerSnapshot(
        charges=(charge("ch1", "o1"),),
        refunds=(refund("re1", "ch1", "o1", 500), refund("re2", "ch1", "o1", 500)),
    )
    assert snapshot.problems() == ["charge ch1 at stripe is refunded 2 times"]


def test_a_snapshot_narrowed_to_some_orders_reports_only_their_problems():
    snapshot = LedgerSnapshot(charges=(charge("ch1", "o1"), charge("ch2", "o1"), charge("ch3", "o2")))
    assert snapshot.for_orders(["o2"]).problems() == []
    assert snapshot.for_orders(["o1", "o2"]).problems() == snapshot.problems() != []
    assert snapshot.for_orders(["o2"]).charges == (charge("ch3", "o2"),)
