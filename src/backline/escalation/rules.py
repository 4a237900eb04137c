"""The escalation rules engine: the seed's escalation criteria as pure functions over plain facts.

This module owns what each criterion means in numbers, its default thresholds and the sentence
that explains a result. It knows no database, no framework and no log source: ``analysis`` turns
logs into ``CaseFacts``; ``recommend`` turns facts into a ``Recommendation``.

Criteria (docs/escalation.md has the user-facing version):

- Monitoring: a signature affects at least ``min_users`` distinct users and at least
  ``baseline_factor`` times its baseline; an upstream's error rate is far above its baseline
  across many users; many users' calls to an upstream are slow, far more than before; an
  upstream is down or degraded right now (in the last ``breaker_minutes``, most calls to it, or
  to it for one facility's patients, failed or were slow: the portal's circuit breaker trips at
  80% failures over two minutes); a security indicator (one user reading several patients'
  records, sign-in failures from many addresses, protected data in the messages of a new
  signature); an engineer marked that a hotfix is needed.
- Investigator: a shared signature first appeared within ``version_window_minutes`` after a
  version change; a shared pattern spans several portal areas or keeps coming back over days; a
  ticket stays without root cause past ``no_root_cause_hours``.
- Tier 3: every signature of the user's errors is confined to that user.

How results combine (``decide``): security, then a hotfix, then a post-deploy signature that is
not widespread (investigator: a recent change to look into, not an outage), then the
many-users and upstream rules (monitoring), then the other investigator rules, else Tier 3.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Literal

Target = Literal["monitoring", "investigator", "tier3"]
TARGETS: tuple[Target, ...] = ("monitoring", "investigator", "tier3")
Number = int | float | str | None

# Rule ids, in the order they are shown.
MANY_USERS = "many_users"
UPSTREAM_SPIKE = "upstream_spike"
SESSION_READS_MANY = "session_reads_many"
SIGNIN_ANOMALY = "signin_anomaly"
PROTECTED_DATA = "protected_data"
HOTFIX = "hotfix"
AFTER_VERSION_CHANGE = "after_version_change"
SPANS_AREAS = "spans_areas"
RECURRING = "recurring"
NO_ROOT_CAUSE = "no_root_cause"
CONFINED_TO_USER = "confined_to_user"
SLOW_COHORT = "slow_cohort"
UPSTREAM_DEGRADED = "upstream_degraded"

SECURITY_RULES = frozenset({SESSION_READS_MANY, SIGNIN_ANOMALY, PROTECTED_DATA})


@dataclass(frozen=True)
class Thresholds:
    """Every configurable number of the rules, with the defaults the team starts from."""

    min_users: int = 5  # N: distinct users sharing a signature
    baseline_factor: float = 3.0  # K: times the baseline (same window on previous days)
    # A baseline below this counts as this, so a brand-new signature needs min_users users and
    # K times this floor, not "infinitely many times zero".
    baseline_floor: float = 1.0
    # And the count must be unlikely under the baseline: the Poisson chance of seeing at least
    # this many users when the baseline is the mean is at most this (small counts are noisy).
    max_chance: float = 0.001
    # Detection tests every signature and facility every minute, so one evaluation is one of
    # many tests a day: its chance must be far smaller than a ticket's single question.
    detect_max_chance: float = 1e-5
    # A call is slow above this percentile of the upstream's calls on earlier days; a cohort is
    # slowed when the users with slow calls cross the same N / K / chance test as errors.
    slow_percentile: int = 95
    # The ticket user's own calls must be mostly slow: 5% of anyone's calls are, by definition.
    slow_user_share: float = 0.5
    upstream_factor: float = 3.0
    upstream_min_rate: float = 0.05  # an error rate under 5% is never "far above"
    upstream_min_users: int = 10
    security_min_patients: int = 3  # distinct patients' records read by one user
    signin_min_addresses: int = 3  # distinct remote addresses among one user's failed sign-ins
    protected_data_share: float = 0.5  # share of sampled messages carrying an identifier
    protected_data_new_hours: float = 24.0
    # The portal's logs leak identifiers in many long-known messages; by default a leak is shown
    # as a note and escalates only when an admin turns this on.
    protected_data_escalates: bool = False
    version_window_minutes: int = 30
    new_signature_min_users: int = 3  # a post-deploy signature must be shared to be a code change
    # Of the endpoint's users: at or above it a post-deploy error makes the endpoint unusable,
    # an outage for monitoring; below it, a recent change for the investigator. The same 80%
    # at which the portal's breaker calls an upstream down.
    widespread_share: float = 0.8
    areas_min: int = 3
    # An upstream is down when this share of its calls failed in the last breaker_minutes (the
    # portal's circuit breaker: 80% over two minutes), degraded when degraded_share of them
    # failed or were slower than its p<breaker_slow_percentile> on earlier days; either only
    # when it is unlikely under the usual shares (detect_max_chance) and hit breaker_min_users.
    breaker_share: float = 0.8
    degraded_share: float = 0.5
    breaker_minutes: float = 2.0
    breaker_min_users: int = 2
    breaker_slow_percentile: int = 99
    breaker_base_floor: float = 0.005  # a usual share under this counts as this
    recurring_min_days: int = 3
    no_root_cause_hours: float = 72.0

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Thresholds:
        """Defaults overridden by ``values`` (unknown keys raise ``ValueError`` naming them)."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown threshold(s): {', '.join(unknown)}")
        base = cls()
        changes: dict[str, Any] = {}
        for name, value in values.items():
            default = getattr(base, name)
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
                changes[name] = value
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number")
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            changes[name] = int(value) if isinstance(default, int) else float(value)
        return replace(base, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# One plain sentence per threshold, for the admins' settings page (a test checks every field).
THRESHOLD_HELP: dict[str, str] = {
    "min_users": "Fewest distinct users sharing an error signature before it counts as many users.",
    "baseline_factor": "How many times its usual count (same window on earlier days) a "
    "signature's users must reach.",
    "baseline_floor": "A usual count below this is treated as this, so a brand-new signature "
    "is not compared with zero.",
    "max_chance": "Largest chance of seeing so many users by luck alone for a ticket's "
    "many-users test (smaller is stricter).",
    "detect_max_chance": "The same chance for continuous detection, which runs many tests a day "
    "and so must be far stricter.",
    "slow_percentile": "A call is slow when it takes longer than this percentile of the "
    "upstream's calls on earlier days.",
    "slow_user_share": "Share (0 to 1) of the ticket user's own calls that must be slow before a slowdown "
    "counts for their ticket.",
    "upstream_factor": "How many times its usual error rate an upstream must reach to count as "
    "a spike.",
    "upstream_min_rate": "Lowest upstream error rate (share of calls, 0 to 1) that can ever count "
    "as a spike.",
    "upstream_min_users": "Fewest users with failed calls to an upstream before its spike "
    "escalates.",
    "security_min_patients": "Different patients' records read by one user that make a "
    "security incident.",
    "signin_min_addresses": "Different addresses among one user's failed sign-ins that look "
    "like someone else trying the account.",
    "protected_data_share": "Share (0 to 1) of a new signature's sampled messages carrying a patient "
    "identifier that counts as a leak.",
    "protected_data_new_hours": "A signature first seen within this many hours counts as new "
    "for the leak rule.",
    "protected_data_escalates": "When on, a leak of patient identifiers escalates to "
    "monitoring; when off it is only shown as a note.",
    "version_window_minutes": "A signature first seen within this many minutes after a version "
    "change points to that change.",
    "new_signature_min_users": "Fewest users a post-deploy signature must reach to be treated "
    "as a code change.",
    "widespread_share": "From this share (0 to 1) of its endpoint's users, a post-deploy error is an "
    "outage for monitoring, not an investigation.",
    "areas_min": "Number of portal areas a shared signature must span to need deeper analysis.",
    "breaker_share": "Share (0 to 1) of an upstream's recent calls that must fail for it to count as "
    "down (the portal's circuit breaker).",
    "degraded_share": "Share (0 to 1) of an upstream's recent calls that must fail or be slow for it to "
    "count as degraded.",
    "breaker_minutes": "How many recent minutes of calls the down-or-degraded check looks at.",
    "breaker_min_users": "Fewest users hit before an upstream that is down or degraded escalates.",
    "breaker_slow_percentile": "For the degraded check, a call is slow above this percentile "
    "of the upstream's calls on earlier days.",
    "breaker_base_floor": "An upstream's usual failure share (0 to 1) below this counts as this, so a "
    "normally clean upstream is not too touchy.",
    "recurring_min_days": "Earlier days a shared signature must have appeared on to count as "
    "coming back.",
    "no_root_cause_hours": "Hours a ticket may stay at Tier 3 without a root cause before the "
    "investigator is suggested.",
}


@dataclass(frozen=True)
class WindowCount:
    """Distinct users in one window ending now, and the mean of the same window on earlier days."""

    label: str  # "30m", "2h", "24h"
    users: int
    baseline: float | None  # None: no earlier day with data to compare with
    baseline_days: int = 0
    scope: str = ""  # "" for everyone, or where the errors concentrate ("Facility 640")
    # Detection pools several same-length windows per earlier day: how many were pooled (0: one
    # per day, the ticket's plain mean), and the chance of the count under that pooled rate.
    baseline_windows: int = 0
    chance: float | None = None
    minutes: float | None = None  # a detection window's length (its chance limit scales by it)

    @property
    def described(self) -> str:
        return f"last {self.label}" + (f" ({self.scope})" if self.scope else "")


@dataclass(frozen=True)
class SignatureFacts:
    """What the logs say about one error signature."""

    signature: str
    template: str = ""
    user_events: int = 0  # the ticket user's events of it in the ticket window (0: no ticket)
    windows: tuple[WindowCount, ...] = ()
    other_users_24h: int = 0  # distinct users other than the ticket's user, last 24 h
    first_seen: datetime | None = None
    version_change_at: datetime | None = None  # the latest version change at or before first_seen
    areas: tuple[str, ...] = ()
    days_seen: int = 0  # earlier days (with data) on which the signature occurred
    user_days: int = 0  # days on which the ticket user hit it
    endpoint_share: float | None = None  # users hitting it / users of its endpoint, last 2 h
    protected_share: float = 0.0  # sampled messages carrying a patient identifier

    def window(self, label: str) -> WindowCount | None:
        return next((w for w in self.windows if w.label == label and not w.scope), None)

    @property
    def users_24h(self) -> int:
        found = self.window("24h") or (self.windows[-1] if self.windows else None)
        return found.users if found else 0


@dataclass(frozen=True)
class UpstreamFacts:
    """An upstream's error rate now against the same window on earlier days."""

    upstream: str
    calls: int
    failures: int
    users_failed: int
    baseline_rate: float | None
    scope: str = ""  # "" for the whole upstream, or "facility 589"

    @property
    def rate(self) -> float:
        return self.failures / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class SlowFacts:
    """A user's slow calls to one upstream and how many users had slow calls there, now and
    before ("slow" is above the upstream's ``slow_percentile`` on earlier days)."""

    upstream: str
    threshold_ms: float
    user_slow_calls: int = 0
    user_calls: int = 0
    windows: tuple[WindowCount, ...] = ()


@dataclass(frozen=True)
class BreakerFacts:
    """An upstream's calls in the last few minutes (for everyone, or for one facility's
    patients): how many failed or were slow, against the upstream's usual shares."""

    upstream: str
    calls: int
    failed: int
    slow_or_failed: int
    users: int  # distinct users with a failed or slow call
    usual_failed: float  # the upstream's usual share of failed calls
    usual_slow_or_failed: float | None = None  # None: no history to say what slow is
    slow_ms: float | None = None
    minutes: float = 2.0
    scope: str = ""  # "" for everyone, or "facility 589"
    label: str = ""  # the upstream's display name ("VistA"); the id when empty

    @property
    def where(self) -> str:
        name = self.label or self.upstream
        return f"{name} for {self.scope} patients" if self.scope else name


@dataclass(frozen=True)
class SecurityFacts:
    patients_read: int = 0  # most distinct patients' records one user read
    signin_addresses: int = 0  # most distinct addresses among one user's failed sign-ins


@dataclass(frozen=True)
class CaseFacts:
    """Everything the rules look at for one ticket or one detected signature."""

    signatures: tuple[SignatureFacts, ...] = ()
    upstreams: tuple[UpstreamFacts, ...] = ()
    slow: tuple[SlowFacts, ...] = ()
    breakers: tuple[BreakerFacts, ...] = ()
    security: SecurityFacts = field(default_factory=SecurityFacts)
    hotfix_needed: bool = False
    hours_without_root_cause: float | None = None  # None: not a ticket, or it has a root cause
    for_ticket: bool = True
    now: datetime | None = None


@dataclass(frozen=True)
class RuleResult:
    """One rule's answer: fired or not, the numbers it used, and a sentence saying why."""

    rule: str
    title: str
    target: Target
    fired: bool
    explanation: str
    numbers: dict[str, Number] = field(default_factory=dict)
    signature: str = ""
    advisory: bool = False  # shown as a note; does not decide

    @property
    def decides(self) -> bool:
        return self.fired and not self.advisory


@dataclass(frozen=True)
class Recommendation:
    target: Target
    headline: str
    deciding: tuple[str, ...]
    results: tuple[RuleResult, ...]

    def fired(self) -> list[RuleResult]:
        return [r for r in self.results if r.fired]


def poisson_tail(mean: float, at_least: int) -> float:
    """P(X >= at_least) for X ~ Poisson(mean), summed directly (small counts only matter)."""
    if at_least <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    term = math.exp(-mean)
    below = term
    for k in range(1, at_least):
        term *= mean / k
        below += term
    return max(0.0, 1.0 - below)


def binomial_tail(n: int, p: float, at_least: int) -> float:
    """P(X >= at_least) for X ~ Binomial(n, p), summed directly over the upper terms."""
    if at_least <= 0:
        return 1.0
    if at_least > n:
        return 0.0
    return min(
        1.0, sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(at_least, n + 1))
    )


def rate_change_chance(now: int, baseline_total: int, windows: int) -> float:
    """The chance of ``now`` or more in one window when ``windows`` earlier windows of the same
    length held ``baseline_total`` together and nothing changed.

    The exact conditional test for two Poisson rates: if both periods share one rate, each of
    the ``now + baseline_total`` users falls in the current window with chance 1/(windows+1).
    Unlike a Poisson tail around the mean it accounts for the baseline being estimated.
    """
    if windows <= 0:
        return 1.0
    return binomial_tail(now + baseline_total, 1.0 / (windows + 1), now)


def window_chance(w: WindowCount, t: Thresholds) -> float:
    """The chance attached to a window: the pooled test's when detection computed one, else a
    Poisson tail under the (floored) mean of earlier days."""
    if w.chance is not None:
        return w.chance
    return poisson_tail(max(w.baseline or 0.0, t.baseline_floor), w.users)


# Detection's chance is per this many minutes watched: a shorter window is tested more often.
DETECTION_MINUTES = 30.0


def detection_limit(w: WindowCount, t: Thresholds) -> float:
    """The largest chance at which a pooled detection window crosses: ``detect_max_chance`` for
    a 30-minute window, a sixth of it for a 5-minute one (tested six times as often, it would
    otherwise raise six times as many false alarms)."""
    if w.minutes is None:
        return t.detect_max_chance
    return t.detect_max_chance * min(1.0, w.minutes / DETECTION_MINUTES)


def window_crowded(w: WindowCount, t: Thresholds) -> bool:
    """``crowded`` for one window, with the stricter detection chance for pooled windows."""
    if w.chance is None:
        return crowded(w.users, w.baseline, t)
    base = max(w.baseline or 0.0, t.baseline_floor)
    return (
        w.users >= t.min_users
        and w.users >= t.baseline_factor * base
        and w.chance <= detection_limit(w, t)
    )


def _times(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


# ---- one function per rule ------------------------------------------------------------------


def crowded(users: int, baseline: float | None, t: Thresholds) -> bool:
    """At least N users, K times the (floored) baseline, and unlikely under it."""
    base = max(baseline or 0.0, t.baseline_floor)
    return (
        users >= t.min_users
        and users >= t.baseline_factor * base
        and poisson_tail(base, users) <= t.max_chance
    )


def _crowded(w: WindowCount, t: Thresholds) -> bool:
    return window_crowded(w, t)


def rule_many_users(s: SignatureFacts, t: Thresholds) -> RuleResult:
    """Monitoring: at least N distinct users in a window and at least K times its baseline."""
    best: tuple[WindowCount, float] | None = None
    for w in s.windows:
        if w.label == "24h":
            continue  # a day is too long to call something happening now
        base = max(w.baseline or 0.0, t.baseline_floor)
        ratio = w.users / base if base > 0 else (float("inf") if w.users else 0.0)
        if _crowded(w, t):
            best = (w, ratio)
            break
        if best is None or ratio > best[1]:
            best = (w, ratio)
    if best is None:
        return RuleResult(
            MANY_USERS,
            "Many users share the signature",
            "monitoring",
            False,
            "No recent window to compare.",
            signature=s.signature,
        )
    w, ratio = best
    fired = _crowded(w, t)
    chance = window_chance(w, t)
    limit = detection_limit(w, t) if w.chance is not None else t.max_chance
    baseline = "no earlier day to compare" if w.baseline is None else f"{w.baseline:.1f}"
    sentence = (
        f"{w.users} distinct users hit this signature in the {w.described}; the same window on "
        f"earlier days averaged {baseline} ({_times(ratio)}x). "
    )
    sentence += (
        f"That is at least {t.min_users} users, {_times(t.baseline_factor)}x the baseline and "
        f"unlikely by chance (p={chance:.1g}): a problem for many users, for the monitoring "
        "on-call."
        if fired
        else f"Escalate to monitoring at {t.min_users} users, {_times(t.baseline_factor)}x and a "
        f"chance under {limit:g} (here p={chance:.2g})."
    )
    return RuleResult(
        MANY_USERS,
        "Many users share the signature",
        "monitoring",
        fired,
        sentence,
        {
            "window": w.label,
            "scope": w.scope,
            "users": w.users,
            "baseline": w.baseline,
            "ratio": round(ratio, 2),
            "chance": float(f"{chance:.3g}"),
        },
        signature=s.signature,
    )


def rule_slow_cohort(f: SlowFacts, t: Thresholds, *, for_ticket: bool = True) -> RuleResult:
    """Monitoring: many users had slow calls to an upstream, far more than on earlier days.

    A latency regression leaves few error signatures (most slow calls still succeed), so the
    many-users test runs on users with slow calls instead. For a ticket the user must have had
    slow calls themselves, or a slowdown elsewhere would escalate an unrelated ticket.
    """
    best: WindowCount | None = None
    for w in f.windows:
        if window_crowded(w, t):
            best = w
            break
        if best is None or w.users > best.users:
            best = w
    share = f.user_slow_calls / f.user_calls if f.user_calls else 0.0
    mine = (f.user_slow_calls >= 1 and share >= t.slow_user_share) or not for_ticket
    fired = best is not None and mine and window_crowded(best, t)
    title = "Many users' calls to an upstream are slow"
    if best is None:
        return RuleResult(SLOW_COHORT, title, "monitoring", False, "No window to compare.")
    chance = window_chance(best, t)
    baseline = "no earlier day to compare" if best.baseline is None else f"{best.baseline:.1f}"
    who = (
        f"This user's calls to {f.upstream}: {f.user_slow_calls} of {f.user_calls} slower than "
        f"{f.threshold_ms:.0f} ms (its p{t.slow_percentile} on earlier days). "
        if for_ticket
        else ""
    )
    sentence = (
        f"{who}{best.users} distinct users had such slow {f.upstream} calls in the "
        f"{best.described}; the same window on earlier days averaged {baseline}. "
    )
    sentence += (
        f"A performance problem for a cohort of users (p={chance:.1g}): monitoring on-call."
        if fired
        else f"Escalate at {t.min_users} users, {_times(t.baseline_factor)}x the baseline and a "
        f"chance under {t.max_chance:g} (here p={chance:.2g})"
        + (
            ""
            if mine
            else f", when at least {_pct(t.slow_user_share)} of this user's calls were slow"
        )
        + "."
    )
    return RuleResult(
        SLOW_COHORT,
        title,
        "monitoring",
        fired,
        sentence,
        {
            "upstream": f.upstream,
            "threshold_ms": round(f.threshold_ms),
            "user_slow_calls": f.user_slow_calls,
            "window": best.label,
            "scope": best.scope,
            "users": best.users,
            "baseline": best.baseline,
            "chance": float(f"{chance:.3g}"),
        },
    )


def rule_upstream_spike(u: UpstreamFacts, t: Thresholds) -> RuleResult:
    """Monitoring: an upstream's error rate far above its baseline, across many users."""
    base = u.baseline_rate
    ratio = u.rate / base if base else (float("inf") if u.rate > 0 else 0.0)
    fired = (
        u.rate >= t.upstream_min_rate
        and ratio >= t.upstream_factor
        and u.users_failed >= t.upstream_min_users
    )
    where = f"{u.upstream} ({u.scope})" if u.scope else u.upstream
    base_text = "no baseline" if base is None else _pct(base)
    sentence = (
        f"{where}: {_pct(u.rate)} of {u.calls} calls failed for {u.users_failed} users, against "
        f"{base_text} on earlier days. "
    )
    sentence += (
        "An upstream failure with wide impact: monitoring on-call."
        if fired
        else f"Escalates at {_pct(t.upstream_min_rate)} or more, {_times(t.upstream_factor)}x "
        f"the baseline and {t.upstream_min_users} users."
    )
    return RuleResult(
        UPSTREAM_SPIKE,
        "Upstream error rate far above baseline",
        "monitoring",
        fired,
        sentence,
        {
            "upstream": u.upstream,
            "scope": u.scope,
            "rate": round(u.rate, 4),
            "baseline_rate": None if base is None else round(base, 4),
            "calls": u.calls,
            "users_failed": u.users_failed,
        },
    )


def breaker_chances(b: BreakerFacts, t: Thresholds) -> tuple[float, float]:
    """The chance of at least this many failed calls, and of failed-or-slow calls, among
    ``b.calls`` when each call fails (or is slow) at the upstream's usual share."""
    failed = binomial_tail(b.calls, max(b.usual_failed, t.breaker_base_floor), b.failed)
    slow = 1.0
    if b.usual_slow_or_failed is not None:
        base = max(b.usual_slow_or_failed, t.breaker_base_floor)
        slow = binomial_tail(b.calls, base, b.slow_or_failed)
    return failed, slow


def breaker_state(b: BreakerFacts, t: Thresholds) -> Literal["down", "degraded", ""]:
    """``down``: the breaker's share of calls failed; ``degraded``: the degraded share failed or
    was slow; each only when unlikely under the usual shares. Users are not counted here."""
    return _breaker_state(b, t, breaker_chances(b, t))


def _breaker_state(
    b: BreakerFacts, t: Thresholds, chances: tuple[float, float]
) -> Literal["down", "degraded", ""]:
    if not b.calls:
        return ""
    failed_chance, slow_chance = chances
    if b.failed >= t.breaker_share * b.calls and failed_chance <= t.detect_max_chance:
        return "down"
    if b.slow_or_failed >= t.degraded_share * b.calls and slow_chance <= t.detect_max_chance:
        return "degraded"
    return ""


def rule_upstream_degraded(b: BreakerFacts, t: Thresholds) -> RuleResult:
    """Monitoring: an upstream (or its calls for one facility) is down or slow right now.

    The fast signal of continuous detection: it needs only a few calls, because each call is
    tested against the upstream's own failure and slowness rates, and two users.
    """
    failed_chance, slow_chance = breaker_chances(b, t)
    state = _breaker_state(b, t, (failed_chance, slow_chance))
    fired = bool(state) and b.users >= t.breaker_min_users
    chance = slow_chance if state == "degraded" else failed_chance
    minutes = _times(b.minutes)
    slow_text = (
        f" or took longer than {b.slow_ms:,.0f} ms (its p{t.breaker_slow_percentile} on earlier "
        "days)"
        if b.slow_ms is not None
        else ""
    )
    usual = b.usual_slow_or_failed if state == "degraded" else b.usual_failed
    sentence = (
        f"{b.where}: {b.failed} of {b.calls} calls failed in the last {minutes} min "
        f"({_pct(b.failed / b.calls if b.calls else 0.0)}); {b.slow_or_failed} failed{slow_text}. "
        f"{b.users} users were hit. Usually {_pct(usual or 0.0)} of its calls "
        f"{'fail or are slow' if state == 'degraded' else 'fail'}. "
    )
    if fired and state == "down":
        sentence += (
            f"That is at least {_pct(t.breaker_share)} failing (the portal's circuit breaker "
            f"trips there) and not chance (p={chance:.1g}): the upstream is down for them, "
            "monitoring on-call."
        )
    elif fired:
        sentence += (
            f"That is at least {_pct(t.degraded_share)} failing or slow and not chance "
            f"(p={chance:.1g}): the upstream is degraded, monitoring on-call."
        )
    else:
        sentence += (
            f"Down at {_pct(t.breaker_share)} failing, degraded at {_pct(t.degraded_share)} "
            f"failing or slow, each with a chance under {t.detect_max_chance:g} and "
            f"{t.breaker_min_users} users."
        )
    return RuleResult(
        UPSTREAM_DEGRADED,
        "Upstream down or degraded now",
        "monitoring",
        fired,
        sentence,
        {
            "upstream": b.upstream,
            "scope": b.scope,
            "state": state or "ok",
            "minutes": b.minutes,
            "calls": b.calls,
            "failed": b.failed,
            "slow_or_failed": b.slow_or_failed,
            "users": b.users,
            "slow_ms": None if b.slow_ms is None else round(b.slow_ms),
            "chance": float(f"{chance:.3g}"),
        },
    )


def rule_session_reads_many(sec: SecurityFacts, t: Thresholds) -> RuleResult:
    fired = sec.patients_read >= t.security_min_patients
    return RuleResult(
        SESSION_READS_MANY,
        "One user read several patients' records",
        "monitoring",
        fired,
        (
            f"One user's requests carried the records of {sec.patients_read} different patients. "
            + (
                "Possible exposure of protected health information: a security incident for "
                "the monitoring on-call, whatever the number of users."
                if fired
                else f"A security incident at {t.security_min_patients} or more."
            )
        ),
        {"patients": sec.patients_read},
    )


def rule_signin_anomaly(sec: SecurityFacts, t: Thresholds) -> RuleResult:
    fired = sec.signin_addresses >= t.signin_min_addresses
    return RuleResult(
        SIGNIN_ANOMALY,
        "Sign-in failures from many addresses",
        "monitoring",
        fired,
        (
            f"One user's failed sign-ins came from {sec.signin_addresses} different addresses. "
            + (
                "That looks like someone else trying the account: a security concern."
                if fired
                else f"Suspicious at {t.signin_min_addresses} or more."
            )
        ),
        {"addresses": sec.signin_addresses},
    )


def rule_protected_data(s: SignatureFacts, t: Thresholds, now: datetime | None) -> RuleResult:
    new = (
        s.first_seen is not None
        and now is not None
        and (now - s.first_seen).total_seconds() <= t.protected_data_new_hours * 3600
    )
    fired = new and s.protected_share >= t.protected_data_share
    note = "" if t.protected_data_escalates else " (a note: escalation for leaks is turned off)"
    return RuleResult(
        PROTECTED_DATA,
        "Patient identifiers in a new log message",
        "monitoring",
        fired,
        (
            f"{_pct(s.protected_share)} of the sampled messages of this signature carry a patient "
            f"identifier; the signature is {'new' if new else 'not new'}."
            + (f" A new leak of protected data is a compliance concern{note}." if fired else "")
        ),
        {"share": round(s.protected_share, 3), "new": new},
        signature=s.signature,
        advisory=not t.protected_data_escalates,
    )


def rule_hotfix(needed: bool) -> RuleResult:
    return RuleResult(
        HOTFIX,
        "An engineer marked that a hotfix is needed",
        "monitoring",
        needed,
        "An engineer marked that this needs an immediate change or hotfix: monitoring on-call."
        if needed
        else "Nobody marked that a hotfix is needed.",
    )


def rule_after_version_change(s: SignatureFacts, t: Thresholds) -> RuleResult:
    users = s.users_24h
    gap: float | None = None
    if s.first_seen is not None and s.version_change_at is not None:
        gap = (s.first_seen - s.version_change_at).total_seconds() / 60
    close = gap is not None and 0 <= gap <= t.version_window_minutes
    fired = close and users >= t.new_signature_min_users
    if gap is None:
        sentence = "No version change before the signature's first occurrence in the lookback."
    else:
        sentence = (
            f"The signature first appeared {gap:.0f} min after a version change and "
            f"{users} users have hit it. "
        )
        sentence += (
            "The problem may come from that change: investigator on-call."
            if fired
            else f"A recent-change investigation when within {t.version_window_minutes} min "
            f"and shared by {t.new_signature_min_users} users."
        )
    return RuleResult(
        AFTER_VERSION_CHANGE,
        "Appeared right after a version change",
        "investigator",
        fired,
        sentence,
        {
            "minutes_after_change": None if gap is None else round(gap, 1),
            "users": users,
            "endpoint_share": None if s.endpoint_share is None else round(s.endpoint_share, 3),
        },
        signature=s.signature,
    )


def rule_spans_areas(s: SignatureFacts, t: Thresholds) -> RuleResult:
    shared = s.users_24h >= t.min_users
    repeated = s.user_events >= 2 or s.user_events == 0
    fired = len(s.areas) >= t.areas_min and shared and repeated
    return RuleResult(
        SPANS_AREAS,
        "The pattern spans several portal areas",
        "investigator",
        fired,
        (
            f"The signature occurs in {len(s.areas)} portal area(s) "
            f"({', '.join(s.areas) or 'none known'}) for {s.users_24h} users in 24 h. "
            + (
                "A pattern across areas needs deeper analysis: investigator on-call."
                if fired
                else f"Investigate at {t.areas_min} areas shared by {t.min_users} users."
            )
        ),
        {"areas": len(s.areas), "users_24h": s.users_24h},
        signature=s.signature,
    )


def rule_recurring(s: SignatureFacts, t: Thresholds) -> RuleResult:
    shared = s.users_24h >= t.min_users
    fired = s.days_seen >= t.recurring_min_days and shared and s.user_days >= 2
    return RuleResult(
        RECURRING,
        "The problem keeps coming back over days",
        "investigator",
        fired,
        (
            f"Seen on {s.days_seen} earlier day(s); this user hit it on {s.user_days} day(s). "
            + (
                "A shared problem that keeps coming back: investigator on-call."
                if fired
                else f"Investigate when it recurs on {t.recurring_min_days} days, for this user "
                "on 2 days or more, and is shared."
            )
        ),
        {"days_seen": s.days_seen, "user_days": s.user_days},
        signature=s.signature,
    )


def rule_no_root_cause(hours: float | None, t: Thresholds) -> RuleResult:
    fired = hours is not None and hours >= t.no_root_cause_hours
    sentence = (
        "The ticket has a root cause or is not being worked at Tier 3."
        if hours is None
        else f"The ticket has been at Tier 3 for {hours:.0f} h without a root cause. "
        + (
            "Extensive research is needed: investigator on-call."
            if fired
            else f"Ask the investigator after {t.no_root_cause_hours:.0f} h."
        )
    )
    return RuleResult(
        NO_ROOT_CAUSE,
        "No root cause after a long time",
        "investigator",
        fired,
        sentence,
        {"hours": None if hours is None else round(hours, 1)},
    )


def rule_confined(signatures: tuple[SignatureFacts, ...]) -> RuleResult:
    others = max((s.other_users_24h for s in signatures), default=0)
    fired = bool(signatures) and others == 0
    if not signatures:
        sentence = "The user has no error signature in the window."
    elif fired:
        sentence = (
            "Nobody else hit the user's error signatures in the last 24 h: a user-specific data "
            "or identity problem for Tier 3."
        )
    else:
        sentence = f"Up to {others} other users hit the user's signatures in the last 24 h."
    return RuleResult(
        CONFINED_TO_USER,
        "Confined to this user",
        "tier3",
        fired,
        sentence,
        {"other_users_24h": others, "signatures": len(signatures)},
    )


# ---- evaluation and decision ------------------------------------------------------------------


def evaluate(facts: CaseFacts, t: Thresholds) -> tuple[RuleResult, ...]:
    """Every rule over ``facts``: one result per rule and signature (or upstream)."""
    results: list[RuleResult] = []
    for s in facts.signatures:
        results.append(rule_many_users(s, t))
    for u in facts.upstreams:
        results.append(rule_upstream_spike(u, t))
    for f in facts.slow:
        results.append(rule_slow_cohort(f, t, for_ticket=facts.for_ticket))
    for b in facts.breakers:
        results.append(rule_upstream_degraded(b, t))
    results.append(rule_session_reads_many(facts.security, t))
    results.append(rule_signin_anomaly(facts.security, t))
    for s in facts.signatures:
        results.append(rule_protected_data(s, t, facts.now))
    results.append(rule_hotfix(facts.hotfix_needed))
    for s in facts.signatures:
        results.append(rule_after_version_change(s, t))
        results.append(rule_spans_areas(s, t))
        results.append(rule_recurring(s, t))
    results.append(rule_no_root_cause(facts.hours_without_root_cause, t))
    if facts.for_ticket:
        results.append(rule_confined(facts.signatures))
    return tuple(results)


def decide(facts: CaseFacts, results: tuple[RuleResult, ...], t: Thresholds) -> Recommendation:
    """Combine rule results into one target (see the module docstring for the order)."""
    firing = [r for r in results if r.decides]

    def named(*rules: str) -> list[RuleResult]:
        return [r for r in firing if r.rule in rules]

    def pick(target: Target, chosen: list[RuleResult], headline: str) -> Recommendation:
        ids = tuple(dict.fromkeys(r.rule for r in chosen))
        return Recommendation(target, headline, ids, results)

    if security := named(*SECURITY_RULES):
        return pick("monitoring", security, "Escalate to monitoring: a security indicator.")
    if hotfix := named(HOTFIX):
        return pick("monitoring", hotfix, "Escalate to monitoring: a hotfix is needed.")
    shares = {s.signature: s.endpoint_share for s in facts.signatures}
    changed = named(AFTER_VERSION_CHANGE)
    contained = [r for r in changed if (shares.get(r.signature) or 0.0) < t.widespread_share]
    if contained:
        return pick(
            "investigator",
            contained,
            "Escalate to the investigator: the error began right after a version change.",
        )
    if wide := named(MANY_USERS, UPSTREAM_SPIKE, SLOW_COHORT) + changed:
        return pick("monitoring", wide, "Escalate to monitoring: many users are affected.")
    if broken := named(UPSTREAM_DEGRADED):
        return pick("monitoring", broken, "Escalate to monitoring: an upstream is down or slow.")
    if deep := named(SPANS_AREAS, RECURRING, NO_ROOT_CAUSE):
        return pick("investigator", deep, "Escalate to the investigator: deeper analysis needed.")
    confined = named(CONFINED_TO_USER)
    if confined:
        return pick("tier3", confined, "Stay at Tier 3: the problem is confined to this user.")
    return pick("tier3", [], "Stay at Tier 3: no escalation criterion is met.")


def recommend(facts: CaseFacts, t: Thresholds | None = None) -> Recommendation:
    """Evaluate every rule and decide; the main entry point."""
    thresholds = t or Thresholds()
    return decide(facts, evaluate(facts, thresholds), thresholds)


def result_as_dict(result: RuleResult) -> dict[str, Any]:
    """JSON-ready form of a rule result (stored as incident evidence, returned by the API)."""
    return {
        "rule": result.rule,
        "title": result.title,
        "target": result.target,
        "fired": result.fired,
        "advisory": result.advisory,
        "explanation": result.explanation,
        "numbers": dict(result.numbers),
        "signature": result.signature,
    }
