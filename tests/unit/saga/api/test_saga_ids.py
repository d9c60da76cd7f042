"""Saga ids of API starts: one per (workflow, idempotency key), stable across processes."""

from __future__ import annotations

import uuid

import pytest
from sagaline.saga.api_service import saga_id_for

pytestmark = pytest.mark.unit


def test_the_same_workflow_and_key_always_give_the_same_uuid5():
    first = saga_id_for("order_processing_workflow", "order-1001")
    assert first == saga_id_for("order_processing_workflow", "order-1001")
    assert uuid.UUID(first).version == 5
    # Pinned: a change here would hand existing idempotency keys new sagas after an upgrade.
    assert first == "09fbcbd4-2720-5844-a7d1-27a026ef2b1e"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("order_processing_workflow", "k1"), ("order_processing_workflow", "k2")),
        (("workflow_a", "k1"), ("workflow_b", "k1")),
        (("a/b", "c"), ("a", "b/c")),
        (("a", "b\nc"), ("a\nb", "c")),
    ],
)
def test_different_workflows_or_keys_never_share_a_saga(one, other):
    assert saga_id_for(*one) != saga_id_for(*other)
