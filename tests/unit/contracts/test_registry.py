import pytest
from pydantic import ValidationError
from sagaline.contracts import (
    TEMPLATES,
    Command,
    FailureReply,
    SuccessReply,
    message_class,
    message_types,
    template,
)
from sagaline.contracts.templates import inventory, notification, payment_gateway, shipping

pytestmark = pytest.mark.unit


def test_all_four_templates_are_registered_at_1_0_0() -> None:
    assert {name: t.version for name, t in TEMPLATES.items()} == {
        "payment_gateway": "1.0.0",
        "inventory": "1.0.0",
        "shipping": "1.0.0",
        "notification": "1.0.0",
    }
    for module in (payment_gateway, inventory, shipping, notification):
        assert template(module.NAME) is module.TEMPLATE


def test_unknown_template_error_lists_the_known_names() -> None:
    with pytest.raises(KeyError, match="unknown template 'billing'; known: inventory, notification"):
        template("billing")


def test_every_command_and_reply_is_found_by_its_wire_name() -> None:
    expected = {
        cls.message_type: cls
        for t in TEMPLATES.values()
        for cls in [*t.command_types().values(), *t.reply_types().values()]
    }
    assert message_types() == frozenset(expected)
    for message_type, cls in expected.items():
        assert message_class(message_type) is cls


def test_wire_names_are_template_dot_class_name() -> None:
    for name, t in TEMPLATES.items():
        for message_type in [*t.command_types(), *t.reply_types()]:
            cls = message_class(message_type)
            assert message_type == f"{name}.{cls.__name__}"


def test_unknown_message_type_is_a_key_error() -> None:
    with pytest.raises(KeyError, match=r"unknown message_type 'payment_gateway\.Charge'"):
        message_class("payment_gateway.Charge")


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_operations_are_well_formed(name: str) -> None:
    for op in TEMPLATES[name].operations.values():
        assert issubclass(op.command, Command)
        assert issubclass(op.success, SuccessReply)
        assert all(issubclass(f, FailureReply) for f in op.failure)
        assert op.timeout > 0
        if op.compensation is not None:
            assert TEMPLATES[name].operation(op.compensation).is_compensation


def test_compensations_are_declared_where_the_workflow_needs_them() -> None:
    compensations = {
        (name, op.name): op.compensation for name, t in TEMPLATES.items() for op in t.operations.values()
    }
    assert compensations == {
        ("payment_gateway", "charge"): "refund",
        ("payment_gateway", "refund"): None,
        ("inventory", "reserve"): "release",
        ("inventory", "release"): None,
        ("shipping", "create"): "cancel",
        ("shipping", "cancel"): None,
        ("notification", "send"): None,
    }


def test_personal_and_card_data_are_marked_sensitive() -> None:
    assert payment_gateway.ChargePayment.sensitive_fields() == {"card_token"}
    assert notification.SendNotification.sensitive_fields() == {"recipient"}
    assert shipping.CreateShipment.sensitive_fields() == frozenset()


def test_reserve_stock_needs_at_least_one_positive_line() -> None:
    ok = inventory.ReserveStock.model_validate({"order_id": "o1", "items": [{"sku": "mug", "quantity": 2}]})
    assert ok.items[0].quantity == 2
    with pytest.raises(ValidationError, match="items"):
        inventory.ReserveStock.model_validate({"order_id": "o1", "items": []})
    with pytest.raises(ValidationError, match="quantity"):
        inventory.ReserveStock.model_validate({"order_id": "o1", "items": [{"sku": "mug", "quantity": 0}]})


def test_release_stock_needs_only_the_order_id() -> None:
    assert inventory.ReleaseStock(order_id="o1").order_id == "o1"


def test_stock_unavailable_names_the_sku() -> None:
    reply = inventory.StockUnavailable(reason="out of stock", sku="mug")
    assert (reply.sku, reply.retryable) == ("mug", False)


@pytest.mark.parametrize("country", ["gb", "GBR", "G", ""])
def test_shipment_country_must_be_iso_alpha_2(country: str) -> None:
    fields = {
        "order_id": "o1",
        "recipient_name": "Ada",
        "address_line": "1 Road",
        "city": "London",
        "postal_code": "N1",
        "country": country,
    }
    with pytest.raises(ValidationError, match="country"):
        shipping.CreateShipment.model_validate(fields)
    assert shipping.CreateShipment.model_validate({**fields, "country": "GB"}).country == "GB"


@pytest.mark.parametrize("address", ["ada", "ada@", "@example.com", "ada@example", "a da@example.com"])
def test_notification_recipient_must_look_like_an_email(address: str) -> None:
    with pytest.raises(ValidationError, match="recipient"):
        notification.SendNotification(order_id="o1", recipient=address, subject="s", body="b")


def test_notification_accepts_a_plain_email() -> None:
    sent = notification.SendNotification(
        order_id="o1", recipient="ada+orders@mail.example.com", subject="Order o1", body="Thanks"
    )
    assert sent.recipient == "ada+orders@mail.example.com"


def test_messages_are_frozen_and_ignore_unknown_fields() -> None:
    # Ignoring unknown fields is what lets an old consumer read a newer minor's optional additions.
    released = inventory.StockReleased.model_validate({"order_id": "o1", "released": True, "extra": 1})
    assert not hasattr(released, "extra")
    with pytest.raises(ValidationError, match="frozen"):
        released.order_id = "o2"  # type: ignore[misc]
