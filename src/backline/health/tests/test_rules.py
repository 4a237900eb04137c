"""The state rule and the cohort flags, pure: thresholds, order of the rules, the sentences."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.health.rules import (
    CallStats,
    HealthInputs,
    State,
    Thresholds,
    cohort_flags,
    decide_state,
    milliseconds,
    percent,
    worst,
)

QUIET = CallStats(calls=400, errors=4, p95_ms=500.0)
LAST_5_MINUTES = CallStats(130, 1)
LAST_2_MINUTES = CallStats(50, 0)
BASELINE = CallStats(calls=1500, errors=15, p95_ms=480.0)


def inputs(
    *,
    down: CallStats = LAST_5_MINUTES,
    breaker: CallStats = LAST_2_MINUTES,
    recent: CallStats = QUIET,
    baseline: CallStats = BASELINE,
    parts_down: tuple[str, ...] = (),
) -> HealthInputs:
    return HealthInputs(
        subject="vista",
        down=down,
        breaker=breaker,
        recent=recent,
        baseline=baseline,
        parts_down=parts_down,
    )


def test_down_names_the_rate_the_threshold_and_the_breaker() -> None:
    decision = decide_state(
        inputs(down=CallStats(50, 48), breaker=CallStats(20, 20), recent=CallStats(150, 60))
    )
    assert decision.state is State.DOWN
    assert decision.rule == "error_rate_down"
    assert decision.text.startswith(
        "down: 96% of vista calls failed in the last 5 minutes (48 of 50; threshold 80%); "
        "circuit breaker would trip at 80% over 2 minutes"
    )
    assert "it has tripped" in decision.text
    assert decision.breaker_tripped


def test_down_at_exactly_the_threshold_and_not_just_below() -> None:
    assert decide_state(inputs(down=CallStats(100, 80))).state is State.DOWN
    below = decide_state(inputs(down=CallStats(100, 79), recent=CallStats(300, 79)))
    assert below.state is State.DEGRADED  # still far above last week's 1%


def test_down_needs_enough_calls() -> None:
    decision = decide_state(inputs(down=CallStats(5, 5), recent=CallStats(8, 8)))
    assert decision.state is State.NORMAL
    assert decision.rule == "too_few_calls"
    assert "too few to judge (minimum 20)" in decision.reason


def test_degraded_by_errors_needs_both_the_ratio_and_the_floor() -> None:
    # 6% now vs 1% last week: above 5% and above 3x.
    degraded = decide_state(inputs(recent=CallStats(400, 24)))
    assert degraded.state is State.DEGRADED
    assert degraded.rule == "error_rate_vs_last_week"
    assert "6.0x the same hour last week (1.0%)" in degraded.reason
    # 6% now vs 2.5% last week: above the floor, but only 2.4x.
    assert decide_state(inputs(recent=CallStats(400, 24), baseline=CallStats(1000, 25))).state is (
        State.NORMAL
    )
    # 4% now vs 0.5% last week: 8x, but under the 5% floor.
    assert decide_state(inputs(recent=CallStats(400, 16), baseline=CallStats(1000, 5))).state is (
        State.NORMAL
    )


def test_degraded_without_baseline_uses_the_floor_and_says_so() -> None:
    decision = decide_state(inputs(recent=CallStats(400, 40), baseline=CallStats(3, 0)))
    assert decision.state is State.DEGRADED
    assert decision.rule == "error_rate_no_baseline"
    assert "too few calls the same hour last week" in decision.reason


def test_a_few_errors_never_degrade() -> None:
    assert decide_state(inputs(recent=CallStats(40, 4), baseline=CallStats(1000, 1))).state is (
        State.NORMAL
    )


def test_degraded_by_latency() -> None:
    decision = decide_state(inputs(recent=CallStats(400, 4, p95_ms=1500.0)))
    assert decision.state is State.DEGRADED
    assert decision.rule == "latency_vs_last_week"
    assert "p95 latency of vista calls is 1500 ms" in decision.reason
    assert "3.1x the same hour last week (480 ms; threshold 3x)" in decision.reason
    assert decide_state(inputs(recent=CallStats(400, 4, p95_ms=1400.0))).state is State.NORMAL


def test_latency_needs_enough_calls_on_both_sides() -> None:
    slow = CallStats(40, 0, p95_ms=9000.0)
    assert decide_state(inputs(recent=slow)).state is State.NORMAL
    assert (
        decide_state(
            inputs(recent=CallStats(400, 0, p95_ms=9000.0), baseline=CallStats(30, 0, 400.0))
        ).state
        is State.NORMAL
    )


def test_a_part_down_degrades_the_whole_and_is_named() -> None:
    decision = decide_state(inputs(parts_down=("station 589",)))
    assert decision.state is State.DEGRADED
    assert decision.rule == "part_down"
    assert "vista is down for station 589" in decision.reason
    # Degraded for another reason: the part is still named.
    other = decide_state(inputs(recent=CallStats(400, 40), parts_down=("station 589",)))
    assert other.rule == "error_rate_vs_last_week"
    assert other.reason.endswith("down at station 589")


def test_normal_reports_the_numbers() -> None:
    decision = decide_state(inputs())
    assert decision.state is State.NORMAL
    assert decision.text == (
        "normal: 1.0% of vista calls failed in the last 15 minutes, p95 500 ms "
        "(last week 1.0%, p95 480 ms)"
    )


@settings(max_examples=200, deadline=None)
@given(
    calls=st.integers(min_value=0, max_value=500),
    errors_a=st.integers(min_value=0, max_value=500),
    errors_b=st.integers(min_value=0, max_value=500),
)
def test_more_failures_never_look_healthier(calls: int, errors_a: int, errors_b: int) -> None:
    low, high = sorted((min(errors_a, calls), min(errors_b, calls)))

    def severity(errors: int) -> int:
        window = CallStats(calls, errors, 500.0)
        return decide_state(inputs(down=window, breaker=window, recent=window)).state.severity

    assert severity(low) <= severity(high)


def test_thresholds_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="down_error_rate"):
        Thresholds(down_error_rate=1.5)
    with pytest.raises(ValueError, match="degraded_latency_ratio"):
        Thresholds(degraded_latency_ratio=0.5)
    with pytest.raises(ValueError, match="min_calls"):
        Thresholds(min_calls=0)
    with pytest.raises(ValueError, match="impossible"):
        CallStats(calls=3, errors=4)


def test_custom_windows_appear_in_the_sentence() -> None:
    t = Thresholds(down_window=timedelta(minutes=10), breaker_window=timedelta(minutes=1))
    text = decide_state(inputs(down=CallStats(50, 50)), t).text
    assert "in the last 10 minutes" in text
    assert "over 1 minute" in text


def test_worst_and_formatting() -> None:
    assert worst([State.NORMAL, State.DOWN, State.DEGRADED]) is State.DOWN
    assert worst([]) is State.NORMAL
    assert percent(0.9612) == "96%"
    assert percent(0.014) == "1.4%"
    assert percent(None) == "n/a"
    assert milliseconds(412.4) == "412 ms"
    assert milliseconds(15000) == "15.0 s"


def test_cohort_flags() -> None:
    flags = cohort_flags(
        events=300, errors=3, p95_ms=4000.0, overall_error_rate=0.01, overall_p95_ms=1000.0
    )
    assert flags == ["p95 4000 ms is 4.0x overall (1000 ms)"]
    flags = cohort_flags(
        events=300, errors=30, p95_ms=1000.0, overall_error_rate=0.04, overall_p95_ms=1000.0
    )
    assert flags == ["error rate 10% is 2.5x overall (4.0%)"]
    # Exactly 2x is flagged; just under is not.
    assert cohort_flags(
        events=100, errors=0, p95_ms=2000.0, overall_error_rate=0.0, overall_p95_ms=1000.0
    )
    assert not cohort_flags(
        events=100, errors=0, p95_ms=1999.0, overall_error_rate=0.0, overall_p95_ms=1000.0
    )
    # Small cohorts and a couple of errors say nothing.
    assert not cohort_flags(
        events=10, errors=9, p95_ms=9000.0, overall_error_rate=0.01, overall_p95_ms=1000.0
    )
    assert not cohort_flags(
        events=100, errors=2, p95_ms=None, overall_error_rate=0.001, overall_p95_ms=None
    )
