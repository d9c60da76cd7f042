import pytest
from sagaline.contracts import Operation, Template, commands_topic, events_topic
from sagaline.contracts.templates.payment_gateway import (
    ChargePayment,
    PaymentCharged,
    PaymentDeclined,
    PaymentFailed,
    PaymentRefunded,
    RefundFailed,
    RefundPayment,
)

pytestmark = pytest.mark.unit


def charge(**overrides: object) -> Operation:
    fields: dict[str, object] = {
        "name": "charge",
        "command": ChargePayment,
        "success": PaymentCharged,
        "failure": (PaymentFailed, PaymentDeclined),
    }
    fields.update(overrides)
    return Operation(**fields)  # type: ignore[arg-type]


def refund() -> Operation:
    return Operation("refund", RefundPayment, PaymentRefunded, (RefundFailed,), is_compensation=True)


def test_operation_key_must_match_its_name() -> None:
    with pytest.raises(ValueError, match="operation key 'pay' != name 'charge'"):
        Template("pg", "1.0.0", {"pay": charge()})


def test_compensation_must_name_an_operation_of_the_template() -> None:
    with pytest.raises(ValueError, match=r"pg\.charge: unknown compensation 'refund'"):
        Template("pg", "1.0.0", {"charge": charge(compensation="refund")})


def test_operation_needs_at_least_one_failure_reply() -> None:
    with pytest.raises(ValueError, match=r"pg\.charge: needs at least one failure reply"):
        Template("pg", "1.0.0", {"charge": charge(failure=())})


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "one"])
def test_version_must_be_semver(version: str) -> None:
    with pytest.raises(ValueError, match="not valid SemVer"):
        Template("pg", version, {"charge": charge()})


def test_template_exposes_contract_major_and_lookups() -> None:
    template = Template("pg", "2.3.1", {"charge": charge(compensation="refund"), "refund": refund()})
    assert template.contract == "pg@2.3.1"
    assert template.major == 2
    assert template.operation("refund").is_compensation
    assert template.operation_for_command("payment_gateway.RefundPayment") is template.operation("refund")
    assert template.operation_for_command("payment_gateway.Nope") is None
    assert set(template.command_types()) == {"payment_gateway.ChargePayment", "payment_gateway.RefundPayment"}
    assert "payment_gateway.PaymentDeclined" in template.reply_types()


def test_unknown_operation_names_the_template() -> None:
    template = Template("pg", "1.0.0", {"charge": charge()})
    with pytest.raises(KeyError, match="template 'pg' has no operation 'capture'"):
        template.operation("capture")


def test_first_failure_is_the_retryable_one() -> None:
    operation = charge()
    assert operation.retryable_failure is PaymentFailed
    assert operation.replies == (PaymentCharged, PaymentFailed, PaymentDeclined)


def test_topics_carry_the_major_not_the_minor() -> None:
    template = Template("pg", "3.7.0", {"charge": charge()})
    assert commands_topic(template, "stripe") == "pg.v3.stripe.commands"
    assert events_topic(template) == "pg.v3.events"
