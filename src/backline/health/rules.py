"""The state rule for an upstream (or one facility's calls to it): normal, degraded or down.

Owns the thresholds and the sentence that explains each decision, so the dashboard, the API and
the docs all say the same thing. Framework-free and pure: it takes counts and latencies already
measured and never reads logs itself.

The rule, checked in this order (the first that holds decides):

1. **down**: at least ``down_error_rate`` (80%) of the calls in the last ``down_window``
   (5 minutes) failed, with at least ``min_calls`` calls. The 80% matches the portal's circuit
   breaker, which trips an upstream after 80% errors over two minutes; the sentence also says what
   the breaker sees over its own two-minute window.
2. **degraded (errors)**: in the last ``recent_window`` (15 minutes) the error rate is above
   ``degraded_error_floor`` (5%) *and* above ``degraded_error_ratio`` (3x) the rate of the same
   hour last week, with at least ``min_errors`` failed calls. Without a usable baseline only the
   5% floor applies, and the sentence says so.
3. **degraded (latency)**: p95 latency in the last 15 minutes is above ``degraded_latency_ratio``
   (3x) the p95 of the same hour last week (both with at least ``min_latency_calls`` calls: a
   p95 of a few dozen calls moves with one timeout).
4. **degraded (partial outage)**: some part (a facility) is itself down although the whole is not.
5. **normal** otherwise, including when there are too few calls to judge (the sentence says so).

Every rule needs at least ``min_calls`` calls in its window. When a part is down but the whole is
degraded for another reason, the sentence names the parts that are down as well.

A failed call is one logged with status ``error`` or ``critical`` (5xx answers and timeouts). A
4xx about one patient's data (e.g. a patient not found in MPI) is not an upstream failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum


class State(StrEnum):
    NORMAL = "normal"
    DEGRADED = "degraded"
    DOWN = "down"

    @property
    def severity(self) -> int:
        """0 normal, 1 degraded, 2 down: for sorting and for "the worst of"."""
        return _SEVERITY[self]


_SEVERITY = {State.NORMAL: 0, State.DEGRADED: 1, State.DOWN: 2}


@dataclass(frozen=True)
class Thresholds:
    """Every number the rule uses; the defaults are the documented ones."""

    down_error_rate: float = 0.80
    down_window: timedelta = timedelta(minutes=5)
    breaker_error_rate: float = 0.80
    breaker_window: timedelta = timedelta(minutes=2)
    # The breaker's own minimum: two minutes hold far fewer calls than the rules' windows.
    breaker_min_calls: int = 5
    recent_window: timedelta = timedelta(minutes=15)
    baseline_window: timedelta = timedelta(hours=1)
    degraded_error_floor: float = 0.05
    degraded_error_ratio: float = 3.0
    degraded_latency_ratio: float = 3.0
    min_calls: int = 20
    min_errors: int = 5
    min_latency_calls: int = 50

    def __post_init__(self) -> None:
        for name in ("down_error_rate", "breaker_error_rate", "degraded_error_floor"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be a fraction in (0, 1]")
        for name in ("degraded_error_ratio", "degraded_latency_ratio"):
            if not getattr(self, name) > 1:
                raise ValueError(f"{name} must be greater than 1")
        for name in ("min_calls", "min_errors", "min_latency_calls", "breaker_min_calls"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class CallStats:
    """Calls made in one time window, how many failed, and their p95 latency (None if no calls)."""

    calls: int
    errors: int
    p95_ms: float | None = None

    def __post_init__(self) -> None:
        if self.calls < 0 or self.errors < 0 or self.errors > self.calls:
            raise ValueError(f"impossible counts: {self.errors} errors in {self.calls} calls")

    @property
    def error_rate(self) -> float | None:
        """Failed share of the calls, or None when there were none."""
        return self.errors / self.calls if self.calls else None


@dataclass(frozen=True)
class HealthInputs:
    """What the rule looks at for one subject, e.g. ``vista`` or ``vista at station 589``.

    ``down`` covers ``Thresholds.down_window``, ``breaker`` the breaker window, ``recent`` the
    recent window and ``baseline`` the same hour one week earlier. ``parts_down`` names parts of
    the subject (facilities) that are down on their own.
    """

    subject: str
    down: CallStats
    breaker: CallStats
    recent: CallStats
    baseline: CallStats
    parts_down: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The state, the rule that decided it (a short key) and the sentence that explains it."""

    state: State
    rule: str
    reason: str
    breaker_tripped: bool = False
    numbers: dict[str, float | int | None] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """``down: 96% of vista calls failed ...``: the state and its reason in one line."""
        return f"{self.state.value}: {self.reason}"


def percent(value: float | None) -> str:
    """``0.9612`` -> ``96%``; small rates keep a decimal (``1.4%``); None -> ``n/a``."""
    if value is None:
        return "n/a"
    scaled = value * 100
    if scaled == 0 or scaled >= 10:
        return f"{scaled:.0f}%"
    return f"{scaled:.1f}%"


def milliseconds(value: float | None) -> str:
    """``412.3`` -> ``412 ms``; ``15000`` -> ``15.0 s``; None -> ``n/a``."""
    if value is None:
        return "n/a"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:.0f} ms"


def minutes(value: timedelta) -> str:
    count = int(value.total_seconds() // 60)
    if count % 60 == 0 and count >= 60:
        hours = count // 60
        return "1 hour" if hours == 1 else f"{hours} hours"
    return "1 minute" if count == 1 else f"{count} minutes"


def _breaker_sentence(inputs: HealthInputs, t: Thresholds) -> tuple[str, bool]:
    rate = inputs.breaker.error_rate
    tripped = (
        rate is not None
        and inputs.breaker.calls >= t.breaker_min_calls
        and rate >= t.breaker_error_rate
    )
    seen = (
        f"last {minutes(t.breaker_window)}: {percent(rate)} of {inputs.breaker.calls} calls failed"
        if inputs.breaker.calls
        else f"no calls in the last {minutes(t.breaker_window)}"
    )
    state = "it has tripped" if tripped else "it has not tripped"
    return (
        f"circuit breaker would trip at {percent(t.breaker_error_rate)} over "
        f"{minutes(t.breaker_window)} ({seen}; {state})",
        tripped,
    )


def decide_state(inputs: HealthInputs, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> Decision:
    """Apply the rule in the module docstring and explain the result in words."""
    t = thresholds
    subject = inputs.subject
    breaker, tripped = _breaker_sentence(inputs, t)
    down_rate = inputs.down.error_rate
    recent_rate = inputs.recent.error_rate
    base_rate = inputs.baseline.error_rate
    has_baseline = inputs.baseline.calls >= t.min_calls
    numbers: dict[str, float | int | None] = {
        "down_window_calls": inputs.down.calls,
        "down_window_error_rate": down_rate,
        "breaker_window_calls": inputs.breaker.calls,
        "breaker_window_error_rate": inputs.breaker.error_rate,
        "recent_calls": inputs.recent.calls,
        "recent_error_rate": recent_rate,
        "recent_p95_ms": inputs.recent.p95_ms,
        "baseline_calls": inputs.baseline.calls,
        "baseline_error_rate": base_rate if has_baseline else None,
        "baseline_p95_ms": inputs.baseline.p95_ms if has_baseline else None,
    }

    def decision(state: State, rule: str, reason: str) -> Decision:
        if inputs.parts_down and state is State.DEGRADED and rule != "part_down":
            reason += f"; down at {_parts(inputs.parts_down)}"
        return Decision(state, rule, reason, breaker_tripped=tripped, numbers=numbers)

    # 1. Down.
    if (
        down_rate is not None
        and inputs.down.calls >= t.min_calls
        and down_rate >= t.down_error_rate
    ):
        return decision(
            State.DOWN,
            "error_rate_down",
            f"{percent(down_rate)} of {subject} calls failed in the last "
            f"{minutes(t.down_window)} ({inputs.down.errors} of {inputs.down.calls}; threshold "
            f"{percent(t.down_error_rate)}); {breaker}",
        )

    enough_recent = inputs.recent.calls >= t.min_calls
    # 2. Degraded by errors.
    if (
        enough_recent
        and inputs.recent.errors >= t.min_errors
        and recent_rate is not None
        and recent_rate > t.degraded_error_floor
    ):
        if not has_baseline:
            return decision(
                State.DEGRADED,
                "error_rate_no_baseline",
                f"{percent(recent_rate)} of {subject} calls failed in the last "
                f"{minutes(t.recent_window)}, above the {percent(t.degraded_error_floor)} floor; "
                f"too few calls the same hour last week to compare "
                f"({inputs.baseline.calls}, minimum {t.min_calls}); {breaker}",
            )
        assert base_rate is not None
        if recent_rate > t.degraded_error_ratio * base_rate:
            ratio = f"{recent_rate / base_rate:.1f}x" if base_rate > 0 else "up from none"
            return decision(
                State.DEGRADED,
                "error_rate_vs_last_week",
                f"{percent(recent_rate)} of {subject} calls failed in the last "
                f"{minutes(t.recent_window)}, {ratio} the same hour last week "
                f"({percent(base_rate)}); thresholds: above {t.degraded_error_ratio:g}x last "
                f"week and above {percent(t.degraded_error_floor)}; {breaker}",
            )

    # 3. Degraded by latency.
    recent_p95 = inputs.recent.p95_ms
    base_p95 = inputs.baseline.p95_ms
    if (
        inputs.recent.calls >= t.min_latency_calls
        and inputs.baseline.calls >= t.min_latency_calls
        and recent_p95 is not None
        and base_p95 is not None
        and base_p95 > 0
        and recent_p95 > t.degraded_latency_ratio * base_p95
    ):
        return decision(
            State.DEGRADED,
            "latency_vs_last_week",
            f"p95 latency of {subject} calls is {milliseconds(recent_p95)} in the last "
            f"{minutes(t.recent_window)}, {recent_p95 / base_p95:.1f}x the same hour last week "
            f"({milliseconds(base_p95)}; threshold {t.degraded_latency_ratio:g}x); "
            f"{percent(recent_rate)} of calls failed",
        )

    # 4. Degraded because a part is down.
    if inputs.parts_down:
        return decision(
            State.DEGRADED,
            "part_down",
            f"{subject} is down for {_parts(inputs.parts_down)} (at least {percent(t.down_error_rate)} of "
            f"their calls failed in the last {minutes(t.down_window)}) while "
            f"{percent(down_rate)} of all its calls failed",
        )

    # 5. Normal.
    if not enough_recent:
        return decision(
            State.NORMAL,
            "too_few_calls",
            f"only {inputs.recent.calls} {subject} calls in the last {minutes(t.recent_window)}, "
            f"too few to judge (minimum {t.min_calls})",
        )
    last_week = (
        f"last week {percent(base_rate)}, p95 {milliseconds(base_p95)}"
        if has_baseline
        else "no baseline last week"
    )
    return decision(
        State.NORMAL,
        "within_thresholds",
        f"{percent(recent_rate)} of {subject} calls failed in the last "
        f"{minutes(t.recent_window)}, p95 {milliseconds(recent_p95)} ({last_week})",
    )


def _parts(parts: tuple[str, ...]) -> str:
    shown = ", ".join(parts[:5])
    return shown + (f" and {len(parts) - 5} more" if len(parts) > 5 else "")


def worst(states: list[State]) -> State:
    """The most severe state in the list (normal for an empty list)."""
    return max(states, key=lambda s: s.severity, default=State.NORMAL)


# -- cohorts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortThresholds:
    """When a cohort is flagged as over-represented against the overall figures."""

    ratio: float = 2.0
    min_events: int = 20
    min_errors: int = 3


DEFAULT_COHORT_THRESHOLDS = CohortThresholds()


def cohort_flags(
    *,
    events: int,
    errors: int,
    p95_ms: float | None,
    overall_error_rate: float | None,
    overall_p95_ms: float | None,
    thresholds: CohortThresholds = DEFAULT_COHORT_THRESHOLDS,
) -> list[str]:
    """Sentences for each way a cohort stands out (empty when it does not).

    A cohort is flagged when its p95 or its error rate is at least ``ratio`` (2x) the overall
    figure; small cohorts (under ``min_events`` events) and error rates built on fewer than
    ``min_errors`` errors are never flagged, since a handful of events says nothing.
    """
    flags: list[str] = []
    if events < thresholds.min_events:
        return flags
    if p95_ms is not None and overall_p95_ms and p95_ms >= thresholds.ratio * overall_p95_ms:
        flags.append(
            f"p95 {milliseconds(p95_ms)} is {p95_ms / overall_p95_ms:.1f}x overall "
            f"({milliseconds(overall_p95_ms)})"
        )
    rate = errors / events
    if errors >= thresholds.min_errors and overall_error_rate is not None:
        if overall_error_rate == 0:
            flags.append(f"error rate {percent(rate)} where overall is 0%")
        elif rate >= thresholds.ratio * overall_error_rate:
            flags.append(
                f"error rate {percent(rate)} is {rate / overall_error_rate:.1f}x overall "
                f"({percent(overall_error_rate)})"
            )
    return flags
