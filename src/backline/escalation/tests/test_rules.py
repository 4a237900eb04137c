"""The rules engine, pure: each rule fires exactly at its thresholds; the decision order."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backline.escalation import rules
from backline.escalation.rules import (
    CaseFacts,
    SecurityFacts,
    SignatureFacts,
    SlowFacts,
    Thresholds,
    UpstreamFacts,
    WindowCount,
    poisson_tail,
    recommend,
)

T = Thresholds()
NOW = datetime(2025, 1, 9, 16, tzinfo=UTC)


def sig(users: int, baseline: float | None, **changes: object) -> SignatureFacts:
    windows = (WindowCount("30m", users, baseline, 3), WindowCount("24h", users, baseline, 3))
    return SignatureFacts(signature="s1", windows=windows, **changes)  # type: ignore[arg-type]


def test_many_users_fires_at_n_users_and_k_times_baseline() -> None:
    assert rules.rule_many_users(sig(8, 1.0), T).fired
    assert not rules.rule_many_users(sig(4, 0.0), T).fired  # fewer than N = 5
    # Ten users against a baseline of four: 2.5x, under K = 3.
    assert not rules.rule_many_users(sig(10, 4.0), T).fired
    assert rules.rule_many_users(sig(12, 4.0), Thresholds(max_chance=0.01)).fired


def test_many_users_needs_the_count_to_be_unlikely_by_chance() -> None:
    # 5 users against a mean of 1: P(X >= 5) ~ 0.0037, above the default 0.001.
    assert not rules.rule_many_users(sig(5, 1.0), T).fired
    assert rules.rule_many_users(sig(5, 1.0), Thresholds(max_chance=0.01)).fired


def test_many_users_explains_with_numbers() -> None:
    result = rules.rule_many_users(sig(8, 1.0), T)
    assert "8 distinct users" in result.explanation
    assert result.numbers["users"] == 8 and result.numbers["baseline"] == 1.0


def test_the_24h_window_alone_never_counts_as_now() -> None:
    windows = (WindowCount("24h", 50, 0.0, 3),)
    assert not rules.rule_many_users(SignatureFacts("s", windows=windows), T).fired


def test_upstream_spike_needs_rate_factor_and_users() -> None:
    hot = UpstreamFacts("vista", calls=100, failures=40, users_failed=12, baseline_rate=0.01)
    assert rules.rule_upstream_spike(hot, T).fired
    few = UpstreamFacts("vista", calls=100, failures=40, users_failed=9, baseline_rate=0.01)
    assert not rules.rule_upstream_spike(few, T).fired
    low = UpstreamFacts("vista", calls=100, failures=4, users_failed=20, baseline_rate=0.001)
    assert not rules.rule_upstream_spike(low, T).fired  # 4% is under the 5% floor
    usual = UpstreamFacts("vista", calls=100, failures=40, users_failed=20, baseline_rate=0.2)
    assert not rules.rule_upstream_spike(usual, T).fired  # 2x only


def test_security_rules_fire_at_their_counts() -> None:
    assert rules.rule_session_reads_many(SecurityFacts(patients_read=3), T).fired
    assert not rules.rule_session_reads_many(SecurityFacts(patients_read=2), T).fired
    assert rules.rule_signin_anomaly(SecurityFacts(signin_addresses=3), T).fired
    assert not rules.rule_signin_anomaly(SecurityFacts(signin_addresses=2), T).fired


def test_protected_data_is_a_note_unless_turned_on() -> None:
    leak = sig(1, 0.0, first_seen=NOW - timedelta(hours=1), protected_share=1.0)
    note = rules.rule_protected_data(leak, T, NOW)
    assert note.fired and note.advisory and not note.decides
    strict = rules.rule_protected_data(leak, Thresholds(protected_data_escalates=True), NOW)
    assert strict.decides
    old = sig(1, 0.0, first_seen=NOW - timedelta(days=3), protected_share=1.0)
    assert not rules.rule_protected_data(old, T, NOW).fired


def test_after_version_change_window_and_sharing() -> None:
    change = NOW - timedelta(hours=1)
    close = sig(6, 0.0, first_seen=change + timedelta(minutes=30), version_change_at=change)
    assert rules.rule_after_version_change(close, T).fired
    late = sig(6, 0.0, first_seen=change + timedelta(minutes=31), version_change_at=change)
    assert not rules.rule_after_version_change(late, T).fired
    alone = sig(2, 0.0, first_seen=change + timedelta(minutes=5), version_change_at=change)
    assert not rules.rule_after_version_change(alone, T).fired  # one user's own problem


def test_spans_areas_recurring_and_no_root_cause() -> None:
    wide = sig(6, 0.0, areas=("account", "medications", "secure_messaging"), user_events=2)
    assert rules.rule_spans_areas(wide, T).fired
    assert not rules.rule_spans_areas(sig(6, 0.0, areas=("account",), user_events=2), T).fired
    assert rules.rule_recurring(sig(6, 0.0, days_seen=3, user_days=2), T).fired
    assert not rules.rule_recurring(sig(6, 0.0, days_seen=3, user_days=1), T).fired
    assert rules.rule_no_root_cause(72.0, T).fired
    assert not rules.rule_no_root_cause(71.9, T).fired
    assert not rules.rule_no_root_cause(None, T).fired


def test_confined_to_user() -> None:
    assert rules.rule_confined((sig(1, 0.0, other_users_24h=0),)).fired
    assert not rules.rule_confined((sig(1, 0.0, other_users_24h=1),)).fired
    assert not rules.rule_confined(()).fired


def test_decision_order() -> None:
    crowd = sig(12, 1.0, other_users_24h=11)
    assert recommend(CaseFacts(signatures=(crowd,))).target == "monitoring"
    security = CaseFacts(signatures=(crowd,), security=SecurityFacts(patients_read=5))
    assert recommend(security).deciding == ("session_reads_many",)
    change = NOW - timedelta(minutes=20)
    deployed = sig(
        12, 1.0, first_seen=change + timedelta(minutes=1), version_change_at=change,
        endpoint_share=0.1, other_users_24h=11,
    )  # fmt: skip
    assert recommend(CaseFacts(signatures=(deployed,))).target == "investigator"
    outage = SignatureFacts(**{**deployed.__dict__, "endpoint_share": 0.9})
    assert recommend(CaseFacts(signatures=(outage,))).target == "monitoring"
    # Most of the endpoint's users failing is an outage only from 80%, the breaker's share.
    many = SignatureFacts(**{**deployed.__dict__, "endpoint_share": 0.6})
    assert recommend(CaseFacts(signatures=(many,))).target == "investigator"
    lonely = sig(1, 0.0, other_users_24h=0)
    decided = recommend(CaseFacts(signatures=(lonely,)))
    assert (decided.target, decided.deciding) == ("tier3", ("confined_to_user",))
    assert recommend(CaseFacts(signatures=(lonely,), hotfix_needed=True)).target == "monitoring"


def test_thresholds_from_mapping_validates() -> None:
    assert Thresholds.from_mapping({"min_users": 7}).min_users == 7
    with pytest.raises(ValueError, match="unknown threshold"):
        Thresholds.from_mapping({"min_user": 7})
    with pytest.raises(ValueError, match="number"):
        Thresholds.from_mapping({"min_users": "7"})
    with pytest.raises(ValueError, match="true or false"):
        Thresholds.from_mapping({"protected_data_escalates": 1})


def _oracle_tail(mean: float, at_least: int) -> float:
    return 1.0 - sum(math.exp(-mean) * mean**k / math.factorial(k) for k in range(at_least))


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.01, max_value=30), st.integers(min_value=0, max_value=60))
def test_poisson_tail_matches_the_textbook_sum(mean: float, at_least: int) -> None:
    assert poisson_tail(mean, at_least) == pytest.approx(
        max(0.0, _oracle_tail(mean, at_least)), abs=1e-9
    )


# ---- pooled detection test and the slow-cohort rule ---------------------------------------


def test_binomial_tail_edges() -> None:
    assert rules.binomial_tail(5, 0.25, 0) == 1.0
    assert rules.binomial_tail(5, 0.25, 6) == 0.0
    assert rules.binomial_tail(5, 0.25, 5) == pytest.approx(0.25**5)
    assert rules.binomial_tail(2, 0.5, 1) == pytest.approx(0.75)


def test_rate_change_chance_counts_the_baseline_uncertainty() -> None:
    # Five users now, none in three earlier windows: each of the five fell "now" with 1/4.
    assert rules.rate_change_chance(5, 0, 3) == pytest.approx(0.25**5)
    # More earlier windows, same zero: far less likely by chance.
    assert rules.rate_change_chance(5, 0, 21) < 1e-6
    # Earlier users make the same count less surprising.
    assert rules.rate_change_chance(5, 3, 21) > rules.rate_change_chance(5, 0, 21)
    assert rules.rate_change_chance(5, 0, 0) == 1.0


def test_pooled_window_uses_the_detection_chance() -> None:
    t = Thresholds()
    at_limit = WindowCount("5m", 5, 0.0, 3, baseline_windows=21, chance=t.detect_max_chance)
    above = WindowCount("5m", 5, 0.0, 3, baseline_windows=21, chance=t.detect_max_chance * 2)
    too_few = WindowCount("5m", 4, 0.0, 3, baseline_windows=21, chance=1e-9)
    assert rules.window_crowded(at_limit, t)
    assert not rules.window_crowded(above, t)
    assert not rules.window_crowded(too_few, t)


def _slow(users: int, baseline: float, mine: int, calls: int) -> SlowFacts:
    window = WindowCount("30m", users, baseline, 3, scope="Facility 757")
    return SlowFacts("oracle_health", 1150.0, mine, calls, (window,))


def test_slow_cohort_fires_for_many_slowed_users_when_the_user_is_slowed() -> None:
    t = Thresholds()
    fired = rules.rule_slow_cohort(_slow(12, 0.3, 3, 3), t)
    assert fired.fired and fired.target == "monitoring"
    assert fired.numbers["users"] == 12
    rec = recommend(CaseFacts(slow=(_slow(12, 0.3, 3, 3),)), t)
    assert rec.target == "monitoring" and "slow_cohort" in rec.deciding


def test_slow_cohort_needs_the_users_own_calls_mostly_slow() -> None:
    t = Thresholds()
    # One slow call of four is 25%: anyone has some calls above the 95th percentile.
    assert not rules.rule_slow_cohort(_slow(12, 0.3, 1, 4), t).fired
    assert rules.rule_slow_cohort(_slow(12, 0.3, 2, 4), t).fired
    assert not rules.rule_slow_cohort(_slow(12, 0.3, 0, 0), t).fired


def test_slow_cohort_needs_min_users_and_a_jump() -> None:
    t = Thresholds()
    assert not rules.rule_slow_cohort(_slow(4, 0.0, 3, 3), t).fired  # under N
    assert not rules.rule_slow_cohort(_slow(6, 2.5, 3, 3), t).fired  # under 3x the baseline
    assert rules.rule_slow_cohort(_slow(8, 0.5, 3, 3), t).fired


def _breaker(calls: int, failed: int, users: int, **changes: object) -> rules.BreakerFacts:
    values: dict[str, object] = {
        "upstream": "vista",
        "calls": calls,
        "failed": failed,
        "slow_or_failed": failed,
        "users": users,
        "usual_failed": 0.012,
        "usual_slow_or_failed": 0.022,
        "slow_ms": 1400.0,
        "scope": "facility 515",
        "label": "VistA",
    }
    return rules.BreakerFacts(**(values | changes))  # type: ignore[arg-type]


def test_upstream_down_needs_the_breaker_share_a_small_chance_and_two_users() -> None:
    # 3 of 3 failing when 1.2% usually fail: p = 0.012^3, under the detection chance.
    down = rules.rule_upstream_degraded(_breaker(3, 3, 2), T)
    assert down.fired and down.numbers["state"] == "down"
    assert math.isclose(float(down.numbers["chance"]), 0.012**3, rel_tol=1e-2)
    assert "VistA for facility 515 patients: 3 of 3 calls failed" in down.explanation
    assert "Usually 1% of its calls fail." in down.explanation
    # Two of two is not unlikely enough (p = 1.4e-4); one user retrying is not an outage.
    assert not rules.rule_upstream_degraded(_breaker(2, 2, 2), T).fired
    assert not rules.rule_upstream_degraded(_breaker(3, 3, 1), T).fired
    # Under 80% failing the breaker would not trip, however unlikely.
    assert rules.breaker_state(_breaker(20, 15, 9, slow_or_failed=15), T) == "degraded"
    assert rules.breaker_state(_breaker(20, 16, 9), T) == "down"


def test_upstream_degraded_counts_slow_calls_against_their_usual_share() -> None:
    slow = _breaker(6, 0, 4, slow_or_failed=5, upstream="oracle_health", label="Oracle Health")
    result = rules.rule_upstream_degraded(slow, T)
    assert result.fired and result.numbers["state"] == "degraded"
    assert "longer than 1,400 ms" in result.explanation
    # With no history of durations, slowness is not judged at all.
    unknown = replace(slow, usual_slow_or_failed=None, slow_ms=None)
    assert not rules.rule_upstream_degraded(unknown, T).fired
    # Five slow calls of six are not unlikely when a quarter of calls are usually slow.
    assert not rules.rule_upstream_degraded(replace(slow, usual_slow_or_failed=0.25), T).fired


def test_a_broken_upstream_goes_to_monitoring_after_the_many_users_rules() -> None:
    rec = recommend(CaseFacts(breakers=(_breaker(4, 4, 3),), for_ticket=False), T)
    assert rec.target == "monitoring" and rec.deciding == ("upstream_degraded",)
    assert rec.headline == "Escalate to monitoring: an upstream is down or slow."
    quiet = recommend(CaseFacts(breakers=(_breaker(30, 1, 1),), for_ticket=False), T)
    assert quiet.target == "tier3"


def test_a_shorter_detection_window_needs_a_smaller_chance() -> None:
    t = Thresholds()
    # Tested six times as often as a 30-minute window, a 5-minute one gets a sixth of the chance.
    five = WindowCount("5m", 9, 1.0, 3, baseline_windows=21, chance=4e-6, minutes=5)
    thirty = replace(five, label="30m", minutes=30)
    assert math.isclose(rules.detection_limit(five, t), t.detect_max_chance / 6)
    assert not rules.window_crowded(five, t)
    assert rules.window_crowded(thirty, t)
    assert rules.window_crowded(replace(five, chance=1e-6), t)
