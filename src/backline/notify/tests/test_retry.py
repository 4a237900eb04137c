"""Backoff arithmetic against a slow, obviously-correct oracle."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.notify.retry import parse_retry_after, retry_delay


def oracle_ceiling(attempt: int, base: float, cap: float) -> float:
    ceiling = base
    for _ in range(attempt - 1):
        ceiling *= 2
        if ceiling >= cap:
            return cap
    return min(ceiling, cap)


@settings(max_examples=200, deadline=None)
@given(
    attempt=st.integers(1, 200),
    base=st.floats(0, 100),
    cap=st.floats(0, 10_000),
    retry_after=st.none() | st.floats(0, 100_000),
    seed=st.integers(0, 2**32),
)
def test_delay_is_jittered_below_the_ceiling_and_never_before_retry_after(
    attempt: int, base: float, cap: float, retry_after: float | None, seed: int
) -> None:
    delay = retry_delay(
        attempt, base=base, cap=cap, retry_after=retry_after, rand=random.Random(seed)
    )
    ceiling = oracle_ceiling(attempt, base, cap)
    if retry_after is not None:
        assert delay >= retry_after
        assert delay <= max(ceiling, retry_after) + 1e-9
    else:
        assert ceiling / 2 - 1e-9 <= delay <= ceiling + 1e-9


def test_jitter_spreads_a_burst() -> None:
    rand = random.Random(7)
    delays = {round(retry_delay(3, base=30, cap=3600, rand=rand), 3) for _ in range(50)}
    assert len(delays) > 40


def test_attempt_counts_from_one() -> None:
    with pytest.raises(ValueError):
        retry_delay(0, base=1, cap=1)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("30", 30.0), (" 2.5 ", 2.5), (None, None), ("soon", None), ("-1", None), ("nan", None)],
)
def test_parse_retry_after(raw: str | None, seconds: float | None) -> None:
    assert parse_retry_after(raw) == seconds
