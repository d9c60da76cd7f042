import pytest
from pydantic import ValidationError
from sagaline.contracts import RetryPolicy

pytestmark = pytest.mark.unit


def test_delay_grows_by_the_backoff_coefficient_until_the_cap() -> None:
    policy = RetryPolicy(initial_interval=0.1, backoff_coefficient=3.0, max_interval=1.0)
    assert [policy.delay(n) for n in range(1, 5)] == pytest.approx([0.1, 0.3, 0.9, 1.0])


def test_coefficient_one_gives_a_constant_delay() -> None:
    policy = RetryPolicy(initial_interval=0.5, backoff_coefficient=1.0, max_interval=0.5)
    assert {policy.delay(n) for n in range(1, 10)} == {0.5}


def test_huge_retry_numbers_stay_at_the_cap() -> None:
    assert RetryPolicy(max_interval=5.0).delay(500) == 5.0


def test_retry_numbers_start_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        RetryPolicy().delay(0)


def test_max_interval_below_initial_interval_is_refused() -> None:
    with pytest.raises(ValidationError, match="max_interval must be >= initial_interval"):
        RetryPolicy(initial_interval=2.0, max_interval=1.0)


@pytest.mark.parametrize(
    "bad",
    [{"max_attempts": 0}, {"initial_interval": 0}, {"backoff_coefficient": 0.5}, {"max_interval": -1}],
)
def test_nonsensical_policies_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        RetryPolicy.model_validate(bad)
