"""Retry delays double from the first up to the ceiling, and stay there however many attempts."""

from datetime import timedelta

import pytest

from shared.backoff import doubling_delay

FIRST, CEILING = timedelta(seconds=5), timedelta(hours=1)


@pytest.mark.parametrize(
    ("attempts", "seconds"),
    [(0, 5), (1, 5), (2, 10), (3, 20), (4, 40), (10, 2560), (11, 3600), (12, 3600)],
)
def test_the_delay_doubles_from_the_first_up_to_the_ceiling(attempts: int, seconds: int) -> None:
    assert doubling_delay(FIRST, CEILING, attempts) == timedelta(seconds=seconds)


def test_many_attempts_of_a_tiny_first_delay_reach_the_ceiling_without_overflowing() -> None:
    # 10 ms doubled 60 times is past what a timedelta holds: the product form raised OverflowError.
    with pytest.raises(OverflowError):
        timedelta(milliseconds=10) * 2**59
    assert doubling_delay(timedelta(milliseconds=10), CEILING, 60) == CEILING
    assert doubling_delay(timedelta(milliseconds=10), CEILING, 10**6) == CEILING


def test_a_first_delay_above_the_ceiling_is_cut_to_it() -> None:
    assert doubling_delay(timedelta(hours=2), CEILING, 1) == CEILING
