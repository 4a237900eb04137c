"""Numbers behind escalation: signatures of a user's errors, how many users share them, where.

Every function takes a ``LogSource`` (the embedded store or Datadog) and explicit times, and
returns plain dataclasses; nothing here imports Django, writes anything or checks permissions
(``services`` and ``views`` do). Results may contain raw user ids only in ``Candidate.subject``,
which callers mask before showing or storing anything.

Definitions:

- An *error* is an event with an ``error_code`` (``ERROR_QUERY``): 4xx answers such as RX138 or
  sign-in code 103 are logged at ``warn`` but are the errors a patient sees.
- A *baseline* is the mean of the same window on each of the previous ``baseline_days`` days on
  which the store holds traffic for that whole window (days without data are left out, so a
  store that began yesterday compares with yesterday only; ``None`` when there is no such day).
- *Over-representation* (Watchdog style): for each facet value, its share of the signature's
  errors against its share of all traffic in the same window; ``lift`` is the ratio.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from backline.audit.redact import Redactor
from backline.escalation.rules import (
    BreakerFacts,
    CaseFacts,
    Recommendation,
    SecurityFacts,
    SignatureFacts,
    SlowFacts,
    Thresholds,
    UpstreamFacts,
    WindowCount,
    breaker_state,
    crowded,
    rate_change_chance,
    recommend,
    window_crowded,
)
from backline.health.selectors import UPSTREAMS as UPSTREAM_LABELS
from backline.logs.source import FacetValue, LogEvent, LogSource

ERROR_QUERY = "@error_code:*"
SIGN_IN_PATH = "/v0/sign_in/callback"
WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("30m", timedelta(minutes=30)),
    ("2h", timedelta(hours=2)),
    ("24h", timedelta(hours=24)),
)
DETECTION_WINDOW = timedelta(minutes=30)
# Detection tests a short window (fast) and a long one (sensitive to slow build-ups), each
# against same-length windows around the same time on earlier days.
DETECTION_WINDOWS: tuple[tuple[str, timedelta], ...] = (
    ("5m", timedelta(minutes=5)),
    ("30m", DETECTION_WINDOW),
)
# How far from the same time of day earlier windows are pooled: three window lengths each side
# (a 5-minute window compares with 7 windows per earlier day), never more than 30 minutes.
POOL_SPAN = 3
POOL_MAX = timedelta(minutes=30)
LOOKBACK = timedelta(days=7)
BASELINE_DAYS = 7
DAY = timedelta(days=1)
MAX_GROUPS = 1000
SAMPLE_MESSAGES = 20
MAX_TICKET_SIGNATURES = 5
# Facets where a signature may concentrate: query field, label.
FACETS: tuple[tuple[str, str], ...] = (
    ("@facility", "Facility"),
    ("@upstream", "Upstream"),
    ("@data_source_system", "Data source"),
    ("version", "App version"),
    ("@credential", "Credential"),
)
# Portal areas by route prefix (the ticket model's area values).
AREA_PREFIXES: tuple[tuple[str, str], ...] = (
    ("/my_health/v1/prescriptions", "medications"),
    ("/my_health/v1/messaging", "secure_messaging"),
    ("/my_health/v1/medical_records", "medical_records"),
    ("/v0/user", "account"),
    ("/v0/sign_in", "account"),
)
# Identifier kinds that are patient data in a message (request UUIDs are operational).
_PATIENT_KINDS = frozenset({"ICN", "SSN", "EDIPI", "DOB", "EMAIL", "PHONE", "MHV"})
_REDACTOR = Redactor(b"escalation-analysis-only-finds")  # only .find() is used: no tokens leave


def quote(value: str) -> str:
    """A value as a query phrase: ``"..."`` with backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signature_query(signature: str) -> str:
    return f"@signature:{quote(signature)}"


def user_query(user_id: str) -> str:
    return f"@user_uuid:{quote(user_id)}"


def both(*parts: str) -> str:
    return " ".join(p for p in parts if p and p != "*") or "*"


def explorer_link(query: str, start: datetime, end: datetime) -> str:
    """The log explorer URL showing ``query`` over ``[start, end)``."""
    return "/logs/?" + urlencode({"q": query, "from": _iso(start), "to": _iso(end)})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def area_of(path: str | None) -> str | None:
    if not path:
        return None
    for prefix, area in AREA_PREFIXES:
        if path.startswith(prefix):
            return area
    return None


# ---- counting -----------------------------------------------------------------------------------


def count(source: LogSource, query: str, start: datetime, end: datetime) -> int:
    """Events matching ``query`` in ``[start, end)`` (0 for an empty window)."""
    if end <= start:
        return 0
    buckets = source.timeseries(query, start, end, interval=end - start)
    return sum(b.count for b in buckets)


def distinct_users(source: LogSource, query: str, start: datetime, end: datetime) -> int:
    rows = source.count_distinct(query, start, end, field="@user_uuid")
    return int(rows[0].values.get("distinct") or 0) if rows else 0


def distinct_by(
    source: LogSource, query: str, start: datetime, end: datetime, *, field: str, group_by: str
) -> dict[str, int]:
    """Distinct values of ``field`` per group (groups without a value are left out)."""
    rows = source.count_distinct(
        query, start, end, field=field, group_by=group_by, limit=MAX_GROUPS
    )
    return {str(r.group): int(r.values.get("distinct") or 0) for r in rows if r.group is not None}


@dataclass
class Coverage:
    """Which hours of the lookback hold any traffic: a baseline day needs its whole window."""

    hours: set[datetime] = field(default_factory=set)

    @classmethod
    def load(cls, source: LogSource, start: datetime, end: datetime) -> Coverage:
        buckets = source.timeseries("*", start, end, interval=timedelta(hours=1))
        return cls({b.start for b in buckets if b.count > 0})

    def covers(self, start: datetime, end: datetime) -> bool:
        first = start.replace(minute=0, second=0, microsecond=0)
        last = (end - timedelta(microseconds=1)).replace(minute=0, second=0, microsecond=0)
        return first in self.hours and last in self.hours


def baseline_days(
    coverage: Coverage, start: datetime, end: datetime, days: int = BASELINE_DAYS
) -> list[int]:
    """Which of the previous ``days`` days hold traffic for the whole shifted window."""
    return [d for d in range(1, days + 1) if coverage.covers(start - d * DAY, end - d * DAY)]


def baseline_users(
    source: LogSource, query: str, start: datetime, end: datetime, days: list[int]
) -> float | None:
    if not days:
        return None
    total = sum(distinct_users(source, query, start - d * DAY, end - d * DAY) for d in days)
    return total / len(days)


# ---- versions -----------------------------------------------------------------------------------


def first_event(source: LogSource, query: str, start: datetime, end: datetime) -> LogEvent | None:
    page = source.search(query, start, end, limit=1, sort="asc")
    return page.events[0] if page.events else None


def version_change_before(
    source: LogSource, at: datetime, *, within: timedelta, lookback: timedelta = LOOKBACK
) -> datetime | None:
    """The latest moment in ``[at - within, at]`` when a version first appeared after another.

    A version "appears" at its first event; it is a *change* only when another version logged
    events in the two hours before, so the version running when the data begins is no change.
    """
    start, end = at - within, at + timedelta(seconds=1)
    versions = source.facets("*", start, end, fields=["version"], limit=50).get("version", [])
    found: list[datetime] = []
    for value in versions:
        if not value.value:
            continue
        first = first_event(source, f"version:{quote(value.value)}", at - lookback, end)
        if first is None or first.ts < start:
            continue
        before = source.facets("*", first.ts - timedelta(hours=2), first.ts, fields=["version"])
        if any(v.value and v.value != value.value for v in before.get("version", [])):
            found.append(first.ts)
    return max(found) if found else None


# ---- over-representation --------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetShare:
    field: str
    label: str
    value: str
    error_share: float
    traffic_share: float

    @property
    def lift(self) -> float:
        return self.error_share / self.traffic_share if self.traffic_share else float("inf")


def concentration(
    source: LogSource, query: str, start: datetime, end: datetime, *, top: int = 3
) -> list[FacetShare]:
    """Per facet, the values most over-represented in ``query``'s events against all traffic."""
    names = [name for name, _ in FACETS]
    errors = source.facets(query, start, end, fields=names, limit=20)
    traffic = source.facets("*", start, end, fields=names, limit=MAX_GROUPS)
    labels = dict(FACETS)
    shares: list[FacetShare] = []
    for name in names:
        err = [v for v in errors.get(name, []) if v.value is not None]
        if not err:
            continue
        err_total = sum(v.count for v in errors.get(name, []))
        all_values = traffic.get(name, [])
        all_total = sum(v.count for v in all_values) or 1
        by_value = {v.value: v.count for v in all_values}
        rows = [
            FacetShare(
                name,
                labels[name],
                str(v.value),
                v.count / err_total,
                by_value.get(v.value, 0) / all_total,
            )
            for v in err
        ]
        rows.sort(key=lambda r: (-r.error_share, r.value))
        shares.extend(rows[:top])
    return shares


HOT_SPOT_LIFT = 3.0
HOT_SPOT_SHARE = 0.5


def hot_spot(shares: Iterable[FacetShare]) -> FacetShare | None:
    """The facet value holding most of the errors while carrying little of the traffic."""
    best = [
        s
        for s in shares
        if s.field != "version" and s.error_share >= HOT_SPOT_SHARE and s.lift >= HOT_SPOT_LIFT
    ]
    best.sort(key=lambda s: (-s.lift, s.field, s.value))
    return best[0] if best else None


# ---- one signature --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A query behind a number, with its window, so the UI can link to the events."""

    label: str
    query: str
    start: datetime
    end: datetime

    @property
    def link(self) -> str:
        return explorer_link(self.query, self.start, self.end)


@dataclass(frozen=True)
class SignatureReport:
    facts: SignatureFacts
    concentration: tuple[FacetShare, ...]
    queries: tuple[Query, ...]
    sample_message: str = ""


def signature_report(
    source: LogSource,
    signature: str,
    *,
    now: datetime,
    thresholds: Thresholds,
    coverage: Coverage,
    user_id: str | None = None,
    user_events: int = 0,
    focus: FacetShare | None = None,
) -> SignatureReport:
    """Everything the rules need about ``signature`` at ``now`` (and about ``user_id``'s share).

    ``focus`` names where to count users besides everywhere (detection passes the facility that
    jumped); without it the most over-represented facet value is used, if any.
    """
    sig = signature_query(signature)
    errors = both(ERROR_QUERY, sig)
    queries: list[Query] = []
    windows = _windows(source, errors, now, coverage, WINDOWS)
    for label, span in WINDOWS:
        queries.append(Query(f"Errors with this signature, last {label}", errors, now - span, now))
    day_ago = now - DAY
    others = (
        distinct_users(source, both(errors, f"-{user_query(user_id)}"), day_ago, now)
        if user_id
        else windows[-1].users
    )
    first = first_event(source, sig, now - LOOKBACK, now + timedelta(seconds=1))
    first_seen = first.ts if first else None
    change = None
    if first_seen is not None:
        within = timedelta(minutes=thresholds.version_window_minutes)
        change = version_change_before(source, first_seen, within=within)
    paths = source.facets(sig, day_ago, now, fields=["@route", "@path"], limit=50)
    areas = sorted(
        {a for values in paths.values() for v in values if (a := area_of(v.value)) is not None}
    )
    days_seen = _days_with(source, sig, now)
    user_days = (
        _days_with(source, both(sig, user_query(user_id)), now, today=True) if user_id else 0
    )
    share = _endpoint_share(source, errors, paths, now)
    sample = source.search(sig, day_ago, now, limit=SAMPLE_MESSAGES).events
    messages = [str(e.columns.get("message") or "") for e in sample]
    leaking = sum(1 for m in messages if any(f.kind in _PATIENT_KINDS for f in _REDACTOR.find(m)))
    facts = SignatureFacts(
        signature=signature,
        user_events=user_events,
        windows=tuple(windows),
        other_users_24h=others,
        first_seen=first_seen,
        version_change_at=change,
        areas=tuple(areas),
        days_seen=days_seen,
        user_days=user_days,
        endpoint_share=share,
        protected_share=leaking / len(messages) if messages else 0.0,
    )
    two_hours = now - timedelta(hours=2)
    shares = concentration(source, errors, two_hours, now)
    spot = focus or hot_spot(shares)
    if spot is not None:
        # Watchdog-style: a signature common everywhere (one message for every VistA station)
        # can still be far above its baseline where it concentrates.
        scoped = both(errors, f"{spot.field}:{quote(spot.value)}")
        scope = f"{spot.label} {spot.value}"
        windows += _windows(source, scoped, now, coverage, WINDOWS[:2], scope=scope)
        for label, span in WINDOWS[:2]:
            queries.append(
                Query(f"Errors with this signature, {scope}, last {label}", scoped, now - span, now)
            )
        facts = replace(facts, windows=tuple(windows))
    queries.append(Query("First occurrence (oldest first)", sig, now - LOOKBACK, now))
    return SignatureReport(facts, tuple(shares), tuple(queries), messages[0] if messages else "")


def _windows(
    source: LogSource,
    query: str,
    now: datetime,
    coverage: Coverage,
    spans: tuple[tuple[str, timedelta], ...],
    *,
    scope: str = "",
) -> list[WindowCount]:
    """Distinct users per window and their baselines. A short window's baseline is never taken
    below the next longer window's per-minute share: a 30-minute mean over a few days is noisy."""
    found: list[WindowCount] = []
    for label, span in spans:
        start = now - span
        days = baseline_days(coverage, start, now)
        found.append(
            WindowCount(
                label,
                distinct_users(source, query, start, now),
                baseline_users(source, query, start, now, days),
                len(days),
                scope=scope,
            )
        )
    for i in range(len(found) - 1):
        short, long = found[i], found[i + 1]
        if short.baseline is None or long.baseline is None:
            continue
        scaled = long.baseline * (spans[i][1] / spans[i + 1][1])
        if scaled > short.baseline:
            found[i] = replace(short, baseline=scaled)
    return found


def _days_with(source: LogSource, query: str, now: datetime, *, today: bool = False) -> int:
    """Distinct UTC days before today's (or including it) on which ``query`` matched."""
    buckets = source.timeseries(query, now - LOOKBACK, now, interval=DAY)
    this_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return len({b.start for b in buckets if b.count and (today or b.start < this_day)})


def _endpoint_share(
    source: LogSource, errors: str, paths: dict[str, list[FacetValue]], now: datetime
) -> float | None:
    """Of the users who called the signature's portal route in 2 h, the share who hit it."""
    routes = [
        str(v.value) for v in paths.get("@route", []) + paths.get("@path", []) if area_of(v.value)
    ]
    if not routes:
        return None
    start = now - timedelta(hours=2)
    callers = distinct_users(source, f"@path:{quote(routes[0])}", start, now)
    hit = distinct_users(source, errors, start, now)
    return min(1.0, hit / callers) if callers else None


# ---- upstreams and security ------------------------------------------------------------------------


def upstream_facts(
    source: LogSource,
    upstream: str,
    *,
    now: datetime,
    coverage: Coverage,
    facility: str = "",
    window: timedelta = DETECTION_WINDOW,
) -> UpstreamFacts:
    """The upstream's (or its calls for one facility's patients) error rate now and before."""
    scope = both(f"@upstream:{quote(upstream)}", f"@facility:{quote(facility)}" if facility else "")
    failed = both(scope, ERROR_QUERY)
    start = now - window
    calls = count(source, scope, start, now)
    failures = count(source, failed, start, now)
    users = distinct_users(source, failed, start, now) if failures else 0
    days = baseline_days(coverage, start, now)
    base_calls = sum(count(source, scope, start - d * DAY, now - d * DAY) for d in days)
    base_fail = sum(count(source, failed, start - d * DAY, now - d * DAY) for d in days)
    return UpstreamFacts(
        upstream=upstream,
        calls=calls,
        failures=failures,
        users_failed=users,
        baseline_rate=(base_fail / base_calls) if base_calls else None,
        scope=f"facility {facility}" if facility else "",
    )


def slow_threshold(
    source: LogSource, upstream: str, before: datetime, *, percentile: int
) -> float | None:
    """The upstream's ``percentile`` call duration over the lookback before ``before``."""
    rows = source.percentiles(
        f"@upstream:{quote(upstream)}",
        before - LOOKBACK,
        before,
        field="@duration_ms",
        ps=(percentile,),
    )
    value = rows[0].values.get(f"p{percentile}") if rows else None
    return float(value) if value is not None else None


def slow_facts(
    source: LogSource,
    *,
    user_id: str,
    upstream: str,
    facility: str,
    start: datetime,
    end: datetime,
    coverage: Coverage,
    thresholds: Thresholds,
) -> SlowFacts | None:
    """The user's slow calls to ``upstream`` in ``[start, end)`` and, when there are any, how
    many users had slow calls to it (everywhere and at the user's facility) against earlier
    days. None when the upstream has no history to say what slow is."""
    limit = slow_threshold(source, upstream, start, percentile=thresholds.slow_percentile)
    if limit is None:
        return None
    calls = both(f"@upstream:{quote(upstream)}", user_query(user_id))
    slow = f"@duration_ms:>{limit:.0f}"
    mine = count(source, calls, start, end)
    mine_slow = count(source, both(calls, slow), start, end)
    windows: list[WindowCount] = []
    if mine_slow:
        everyone = both(f"@upstream:{quote(upstream)}", slow)
        windows = _windows(source, everyone, end, coverage, WINDOWS[:2])
        if facility:
            scoped = both(everyone, f"@facility:{quote(facility)}")
            scope = f"Facility {facility}"
            windows += _windows(source, scoped, end, coverage, WINDOWS[:2], scope=scope)
    return SlowFacts(upstream, limit, mine_slow, mine, tuple(windows))


def security_for_user(
    source: LogSource, user_id: str, start: datetime, end: datetime
) -> SecurityFacts:
    """Distinct patients' ICNs in one user's events; distinct addresses of failed sign-ins."""
    who = user_query(user_id)
    icns = source.count_distinct(both(who, "@payload.icn:*"), start, end, field="@payload.icn")
    ips = source.count_distinct(
        both(who, ERROR_QUERY, f"@path:{quote(SIGN_IN_PATH)}"),
        start,
        end,
        field="@named_tags.remote_ip",
    )
    return SecurityFacts(
        patients_read=int(icns[0].values.get("distinct") or 0) if icns else 0,
        signin_addresses=int(ips[0].values.get("distinct") or 0) if ips else 0,
    )


# ---- upstreams down or degraded now (the fast signal) ------------------------------------------

# Under this many calls in the lookback an upstream's usual shares are unknown: a failed call is
# then assumed to happen 5% of the time, and slowness is not judged.
HISTORY_MIN_CALLS = 200
UNKNOWN_FAILED_SHARE = 0.05
ALL_CALLS = "@upstream:*"
# Upstreams that pass another's failure on (the MHV API answers with RX99 when VistA or Oracle
# Health fails behind it): named after the upstream they depend on.
PASSES_ON = frozenset({"mhv_api"})
# An upstream is broken for everyone only when failing calls come from this many facilities
# besides the broken ones: one facility's problem is that facility's incident.
WIDE_MIN_FACILITIES = 2


@dataclass(frozen=True)
class UpstreamUsual:
    """An upstream's calls over the lookback: the share that failed, the duration above which
    a call is slow (its ``percentile``), and the share that failed or was slow."""

    calls: int
    failed: float
    slow_ms: float | None
    slow_or_failed: float | None


def _by_value(
    source: LogSource, query: str, start: datetime, end: datetime, by: str
) -> dict[str, int]:
    found = source.facets(query, start, end, fields=[by], limit=MAX_GROUPS).get(by, [])
    return {str(v.value): v.count for v in found if v.value is not None}


def _bad_query(usual: dict[str, UpstreamUsual], upstream: str = "") -> str:
    """Calls that failed or were slow: of one upstream, or of any (``upstream`` empty)."""
    names = [upstream] if upstream else sorted(usual)
    slow = [
        f"(@upstream:{quote(name)} @duration_ms:>{usual[name].slow_ms:.0f})"
        for name in names
        if name in usual and usual[name].slow_ms is not None
    ]
    scope = f"@upstream:{quote(upstream)}" if upstream else ALL_CALLS
    if not slow:
        return both(scope, ERROR_QUERY)
    return f"{scope} ({' OR '.join([ERROR_QUERY, *slow])})"


def upstream_usual(
    source: LogSource, before: datetime, *, percentile: int
) -> dict[str, UpstreamUsual]:
    """Each upstream's usual shares over the lookback before ``before`` (upstreams with fewer
    than ``HISTORY_MIN_CALLS`` calls are left out: nothing is known of them)."""
    start = before - LOOKBACK
    calls = _by_value(source, ALL_CALLS, start, before, "@upstream")
    known = {name: n for name, n in calls.items() if n >= HISTORY_MIN_CALLS}
    if not known:
        return {}
    failed = _by_value(source, both(ALL_CALLS, ERROR_QUERY), start, before, "@upstream")
    lines: dict[str, float] = {}  # the duration above which a call is slow
    for row in source.percentiles(
        ALL_CALLS,
        start,
        before,
        field="@duration_ms",
        ps=(percentile,),
        group_by="@upstream",
        limit=MAX_GROUPS,
    ):
        value = row.values.get(f"p{percentile}")
        if row.group is not None and value is not None:
            lines[str(row.group)] = float(value)
    usual = {
        name: UpstreamUsual(n, failed.get(name, 0) / n, lines.get(name), None)
        for name, n in known.items()
    }
    bad = _by_value(source, _bad_query(usual), start, before, "@upstream")
    return {
        name: replace(u, slow_or_failed=bad.get(name, 0) / u.calls if u.slow_ms else None)
        for name, u in usual.items()
    }


def _breaker_facts(
    upstream: str,
    usual: UpstreamUsual | None,
    counts: tuple[int, int, int],
    users: int,
    t: Thresholds,
    scope: str = "",
) -> BreakerFacts:
    calls, failed, bad = counts
    return BreakerFacts(
        upstream=upstream,
        calls=calls,
        failed=min(failed, calls),
        slow_or_failed=min(bad, calls),
        users=users,
        usual_failed=usual.failed if usual else UNKNOWN_FAILED_SHARE,
        usual_slow_or_failed=usual.slow_or_failed if usual else None,
        slow_ms=usual.slow_ms if usual else None,
        minutes=t.breaker_minutes,
        scope=scope,
        label=UPSTREAM_LABELS.get(upstream, upstream),
    )


def breaker_candidates(
    source: LogSource, state: DetectionState, now: datetime, t: Thresholds, skip: set[str]
) -> list[Candidate]:
    """Upstreams down or degraded in the last ``breaker_minutes``, as a circuit breaker sees
    them: for everyone (key ``upstream:<name>``) or for one facility's patients (key
    ``facility:<station>``, holding every upstream broken there: when VistA fails, the MHV API
    calls passing its answer on fail too, and that is one problem).

    In a quiet minute this is one query (failed or slow calls per upstream); each upstream with
    ``breaker_min_users`` such calls costs a few more.
    """
    start = now - timedelta(minutes=t.breaker_minutes)
    usual = state.usual_for(source, now, t)
    bad_by_upstream = _by_value(source, _bad_query(usual), start, now, "@upstream")
    hot = sorted(u for u, n in bad_by_upstream.items() if n >= t.breaker_min_users)
    if not hot:
        return []
    calls_by_upstream = _by_value(source, ALL_CALLS, start, now, "@upstream")
    failed_by_upstream = _by_value(source, both(ALL_CALLS, ERROR_QUERY), start, now, "@upstream")
    found: list[Candidate] = []
    at_facility: dict[str, list[BreakerFacts]] = {}
    for upstream in hot:
        if f"upstream:{upstream}" in skip:
            continue  # known to be broken for everyone: its facilities are part of that
        scope = f"@upstream:{quote(upstream)}"
        bad_query = _bad_query(usual, upstream)
        mine = usual.get(upstream)
        calls = _by_value(source, scope, start, now, "@facility")
        failed = _by_value(source, both(scope, ERROR_QUERY), start, now, "@facility")
        bad = _by_value(source, bad_query, start, now, "@facility")
        users = distinct_by(source, bad_query, start, now, field="@user_uuid", group_by="@facility")
        broken: dict[str, BreakerFacts] = {}
        for facility, n in bad.items():
            counts = (calls.get(facility, 0), failed.get(facility, 0), n)
            here = _breaker_facts(
                upstream, mine, counts, users.get(facility, 0), t, scope=f"facility {facility}"
            )
            if breaker_state(here, t):
                broken[facility] = here
        # Broken for everyone when the calls outside the broken facilities (and those already
        # known to be broken) still trip, and their failures come from several facilities.
        aside = set(broken) | {f for f in calls if f"facility:{f}" in skip}
        rest = _breaker_facts(
            upstream,
            mine,
            (
                calls_by_upstream.get(upstream, 0) - sum(calls.get(f, 0) for f in aside),
                failed_by_upstream.get(upstream, 0) - sum(failed.get(f, 0) for f in aside),
                bad_by_upstream[upstream] - sum(bad.get(f, 0) for f in aside),
            ),
            sum(n for facility, n in users.items() if facility not in aside),
            t,
        )
        spread = sum(1 for f, n in bad.items() if n and f not in aside)
        wide = spread >= WIDE_MIN_FACILITIES and rest.users >= t.breaker_min_users
        if wide and breaker_state(rest, t):
            whole = (
                calls_by_upstream.get(upstream, 0),
                failed_by_upstream.get(upstream, 0),
                bad_by_upstream[upstream],
            )
            everyone = _breaker_facts(upstream, mine, whole, sum(users.values()), t)
            candidate = _breaker_candidate(
                source, f"upstream:{upstream}", [everyone], start, now, t
            )
            if candidate is not None:
                found.append(candidate)
                continue
        for facility, one in broken.items():
            at_facility.setdefault(facility, []).append(one)
    for facility, facts in sorted(at_facility.items()):
        key = f"facility:{facility}"
        if key in skip:
            continue
        # The most broken first; on a tie the upstream whose answers others pass on.
        facts.sort(key=lambda b: (-b.slow_or_failed, b.upstream in PASSES_ON, b.upstream))
        candidate = _breaker_candidate(source, key, facts, start, now, t, facility=facility)
        if candidate is not None:
            found.append(candidate)
    return found


def _breaker_candidate(
    source: LogSource,
    key: str,
    facts: list[BreakerFacts],
    start: datetime,
    now: datetime,
    t: Thresholds,
    *,
    facility: str = "",
) -> Candidate | None:
    """A candidate for upstream(s) broken in one scope, named by the most broken one; its
    signature is that upstream's most frequent error there (tickets and incidents join on it)."""
    rec = recommend(CaseFacts(breakers=tuple(facts), for_ticket=False, now=now), t)
    if rec.target == "tier3":
        return None
    main = facts[0]
    state = breaker_state(main, t)
    where = both(
        f"@upstream:{quote(main.upstream)}", f"@facility:{quote(facility)}" if facility else ""
    )
    errors = source.facets(both(where, ERROR_QUERY), start, now, fields=["@signature"], limit=1)
    signature = next((str(v.value) for v in errors.get("@signature", []) if v.value), "")
    since = now - timedelta(minutes=30)  # the links show the onset, not only the test's window
    queries = [
        Query(f"Failed {main.label} calls", both(where, ERROR_QUERY), since, now),
        Query(f"All {main.label} calls", where, since, now),
    ]
    affected = both(where, ERROR_QUERY)
    if main.slow_ms is not None:
        slow = both(where, f"@duration_ms:>{main.slow_ms:.0f}")
        queries.insert(1, Query(f"Slow {main.label} calls", slow, since, now))
        affected = f"{where} ({ERROR_QUERY} OR @duration_ms:>{main.slow_ms:.0f})"
    if state == "down":
        title = f"{main.where} down: {main.failed} of {main.calls} calls failed"
    else:
        title = f"{main.where} degraded: {main.slow_or_failed} of {main.calls} calls failed or slow"
    return Candidate(
        key=key,
        kind="upstream",
        title=f"{title} in {main.minutes:g} min",
        recommendation=rec,
        signature=signature,
        queries=tuple(queries),
        users_query=affected,
        numbers={
            "upstream": main.upstream,
            "facility": facility or None,
            "state": state,
            "calls": main.calls,
            "failed": main.failed,
            "slow_or_failed": main.slow_or_failed,
            "users": main.users,
        },
    )


# ---- a ticket ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketAnalysis:
    start: datetime
    end: datetime
    signatures: tuple[SignatureReport, ...]
    upstreams: tuple[UpstreamFacts, ...]
    security: SecurityFacts
    recommendation: Recommendation
    queries: tuple[Query, ...]


def ticket_window(
    occurred_at: datetime | None, occurred_until: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """Around when it happened: 30 min before it started to 30 min after it ended (or 2 h),
    never past ``now``."""
    if occurred_at is None:
        return now - timedelta(hours=2), now
    start = occurred_at - timedelta(minutes=30)
    end = (occurred_until or occurred_at + timedelta(hours=1)) + timedelta(minutes=30)
    end = min(end, now)
    if end <= start:
        end = min(start + timedelta(hours=2), now) if start < now else start + timedelta(hours=2)
    return start, end


def relevant_signatures(counts: dict[str, int]) -> list[str]:
    """The user's signatures worth analysing: hit twice or more, or at least half as often as
    the most frequent one (one stray background error is not the ticket's problem)."""
    if not counts:
        return []
    top = max(counts.values())
    chosen = [s for s, n in counts.items() if n >= 2 or n * 2 >= top]
    chosen.sort(key=lambda s: (-counts[s], s))
    return chosen[:MAX_TICKET_SIGNATURES]


def ticket_analysis(
    source: LogSource,
    *,
    user_id: str,
    occurred_at: datetime | None,
    occurred_until: datetime | None,
    now: datetime,
    thresholds: Thresholds,
    hotfix_needed: bool = False,
    hours_without_root_cause: float | None = None,
) -> TicketAnalysis:
    """The user's error signatures around when it happened, the numbers, the recommendation."""
    start, end = ticket_window(occurred_at, occurred_until, now)
    who = user_query(user_id)
    user_errors = both(who, ERROR_QUERY)
    found = source.facets(user_errors, start, end, fields=["@signature"], limit=20)
    counts = {str(v.value): v.count for v in found.get("@signature", []) if v.value}
    coverage = Coverage.load(source, end - LOOKBACK - DAY, end)
    reports = tuple(
        signature_report(
            source,
            sig,
            now=end,
            thresholds=thresholds,
            coverage=coverage,
            user_id=user_id,
            user_events=counts[sig],
        )
        for sig in relevant_signatures(counts)
    )
    touched = source.facets(user_errors, start, end, fields=["@upstream", "@facility"], limit=5)
    upstream_names = [str(v.value) for v in touched.get("@upstream", []) if v.value]
    facility = next((str(v.value) for v in touched.get("@facility", []) if v.value), "")
    upstreams: list[UpstreamFacts] = []
    for name in upstream_names[:3]:
        upstreams.append(upstream_facts(source, name, now=end, coverage=coverage))
        if facility:
            upstreams.append(
                upstream_facts(source, name, now=end, coverage=coverage, facility=facility)
            )
    called = source.facets(who, start, end, fields=["@upstream", "@facility"], limit=10)
    home = next((str(v.value) for v in called.get("@facility", []) if v.value), facility)
    slow: list[SlowFacts] = []
    for value in called.get("@upstream", []):
        if value.value:
            found_slow = slow_facts(
                source,
                user_id=user_id,
                upstream=str(value.value),
                facility=home,
                start=start,
                end=end,
                coverage=coverage,
                thresholds=thresholds,
            )
            if found_slow is not None:
                slow.append(found_slow)
    security = security_for_user(source, user_id, start, end)
    facts = CaseFacts(
        signatures=tuple(r.facts for r in reports),
        upstreams=tuple(upstreams),
        slow=tuple(slow),
        security=security,
        hotfix_needed=hotfix_needed,
        hours_without_root_cause=hours_without_root_cause,
        for_ticket=True,
        now=end,
    )
    queries = (
        Query("The user's errors in the window", user_errors, start, end),
        Query("All of the user's events in the window", who, start, end),
    )
    return TicketAnalysis(
        start,
        end,
        reports,
        tuple(upstreams),
        security,
        recommend(facts, thresholds),
        queries,
    )


# ---- continuous detection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """Something detection found that warrants an incident (the recommendation says for whom).

    ``key`` identifies it across runs (one open incident per key); ``subject`` holds a raw user
    id for security candidates and must be masked before it is shown or stored.
    """

    key: str
    kind: str  # "signature", "upstream" or "security"
    title: str
    recommendation: Recommendation
    signature: str = ""
    report: SignatureReport | None = None
    subject: str = ""
    numbers: dict[str, int | float | str | None] = field(default_factory=dict)
    queries: tuple[Query, ...] = ()
    # The events whose users are affected (an upstream candidate's failed or slow calls there):
    # open tickets of those users are linked to the incident. Empty: by signature.
    users_query: str = ""


@dataclass
class DetectionState:
    """What one detecting process remembers between runs: first-seen times (they never move
    later), the coverage of the lookback, refreshed hourly, and distinct-user counts of earlier
    days' windows (the past does not change, so each is queried once)."""

    first_seen: dict[str, datetime] = field(default_factory=dict)
    coverage: Coverage | None = None
    coverage_at: datetime | None = None
    past: dict[tuple[str, datetime, timedelta], dict[str, int]] = field(default_factory=dict)
    usual: dict[str, UpstreamUsual] = field(default_factory=dict)
    usual_at: datetime | None = None
    minute_tested: datetime | None = None  # the minute whose signature tests have run

    def minute_due(self, now: datetime) -> bool:
        """True once per minute: the signature and security tests run at most that often."""
        minute = now.replace(second=0, microsecond=0)
        if self.minute_tested == minute:
            return False
        self.minute_tested = minute
        return True

    def usual_for(
        self, source: LogSource, now: datetime, t: Thresholds
    ) -> dict[str, UpstreamUsual]:
        """``upstream_usual`` over the lookback, refreshed hourly."""
        hour = now.replace(minute=0, second=0, microsecond=0)
        if self.usual_at != hour:
            self.usual = upstream_usual(source, hour, percentile=t.breaker_slow_percentile)
            self.usual_at = hour
        return self.usual

    def coverage_for(self, source: LogSource, now: datetime) -> Coverage:
        stale = self.coverage_at is None or now - self.coverage_at >= timedelta(minutes=60)
        if self.coverage is None or stale or self.coverage_at is None or now < self.coverage_at:
            self.coverage = Coverage.load(source, now - LOOKBACK - DAY, now)
            self.coverage_at = now.replace(minute=0, second=0, microsecond=0)
        return self.coverage


def detect_candidates(
    source: LogSource,
    now: datetime,
    thresholds: Thresholds,
    *,
    state: DetectionState | None = None,
    skip_keys: Iterable[str] = (),
    token: Callable[[str], str] = str,
) -> list[Candidate]:
    """One evaluation, like a Datadog monitor's: what crossed a threshold in the last 30 min.

    0. Upstreams down or degraded in the last ``breaker_minutes`` (``breaker_candidates``);
       their signatures are not proposed again as signatures. This runs on every call (the
       worker calls every 15 s); steps 1 and 2 once per minute of ``now``, as a Datadog
       monitor does: their windows move little in 15 s, and each extra test is one more chance
       of a false alarm.
    1. Distinct users per signature in the window; signatures with ``min_users`` users are
       compared with their baseline, signatures with ``new_signature_min_users`` users are
       checked for being new. Either kind goes through every rule (``recommend``); a
       candidate is kept when the recommendation is not "stay at Tier 3".
    2. Security: any user whose events carry ``security_min_patients`` patients' ICNs, or whose
       failed sign-ins came from ``signin_min_addresses`` addresses.
    Keys in ``skip_keys`` (already proposed) are not evaluated again. Security keys name the
    user through ``token`` (callers pass a masking function, so keys can be stored).
    """
    state = state or DetectionState()
    skip = set(skip_keys)
    t = thresholds
    start = now - DETECTION_WINDOW
    coverage = state.coverage_for(source, now)
    found: list[Candidate] = breaker_candidates(source, state, now, t, skip)
    if not state.minute_due(now):
        return found
    claimed = {c.signature for c in found if c.signature}
    # Facilities known to be broken (proposed now or before): their errors are that incident's.
    broken = {str(c.numbers["facility"]) for c in found if c.numbers.get("facility")}
    broken |= {key.split(":", 1)[1] for key in skip if key.startswith("facility:")}

    def skipped(sig: str) -> bool:
        return f"sig:{sig}" in skip or sig in claimed

    evidence = _crossing(source, state, coverage, now, t, group_by="@signature", skip=skipped)
    wanted: list[str] = list(evidence)
    focus: dict[str, FacetShare] = {}
    facilities = _crossing(
        source, state, coverage, now, t, group_by="@facility", skip=lambda _: False
    )
    for facility, windows in sorted(facilities.items()):
        if facility in broken:
            continue
        # The facility's users with errors jumped; propose only the signatures whose own users
        # at the facility jumped (a background signature there is not the problem).
        spot = FacetShare("@facility", "Facility", facility, 1.0, 0.0)
        scoped = both(ERROR_QUERY, f"@facility:{quote(facility)}")
        spans = dict(DETECTION_WINDOWS)
        for crossing in windows:
            span = spans[crossing.label]
            there = distinct_by(
                source, scoped, now - span, now, field="@user_uuid", group_by="@signature"
            )
            days = baseline_days(coverage, now - span, now)
            totals, pooled = pooled_counts(
                source, state, group_by="@signature", now=now, span=span, days=days, query=scoped
            )
            for sig, n in there.items():
                if n < t.min_users or skipped(sig):
                    continue
                w = pooled_window(
                    crossing.label,
                    n,
                    totals.get(sig, 0),
                    pooled,
                    len(days),
                    scope=f"Facility {facility}",
                    span=span,
                )
                if not window_crowded(w, t):
                    continue
                focus.setdefault(sig, spot)
                evidence.setdefault(sig, []).append(w)
                if sig not in wanted:
                    wanted.append(sig)
    users = distinct_by(source, ERROR_QUERY, start, now, field="@user_uuid", group_by="@signature")
    for sig, n in users.items():
        if n < t.new_signature_min_users or sig in wanted or skipped(sig):
            continue
        seen = state.first_seen.get(sig)
        if seen is None:
            first = first_event(source, signature_query(sig), now - LOOKBACK, now)
            if first is None:
                continue
            seen = state.first_seen[sig] = first.ts
        if now - seen <= timedelta(hours=2):
            wanted.append(sig)
    for sig in sorted(wanted):
        report = signature_report(
            source, sig, now=now, thresholds=t, coverage=coverage, focus=focus.get(sig)
        )
        at_broken = sum(
            c.error_share
            for c in report.concentration
            if c.field == "@facility" and c.value in broken
        )
        if at_broken >= HOT_SPOT_SHARE:
            continue  # mostly the errors of facilities whose upstream is down: their incidents
        # Detection decides on its own pooled windows (tested at the stricter detection
        # chance); the report's windows stay in the evidence, and the 24-h count feeds the
        # post-deploy rule.
        day = [w for w in report.facts.windows if w.label == "24h"]
        facts = CaseFacts(
            signatures=(replace(report.facts, windows=tuple(evidence.get(sig, [])) + tuple(day)),),
            for_ticket=False,
            now=now,
        )
        rec = recommend(facts, t)
        if rec.target == "tier3":
            continue
        found.append(
            Candidate(
                key=f"sig:{sig}",
                kind="signature",
                title=report.sample_message[:150] or f"Signature {sig}",
                recommendation=rec,
                signature=sig,
                report=report,
                numbers={"users_30m": users.get(sig, 0)},
            )
        )
    found.extend(_security_candidates(source, start, now, t, skip, token))
    return found


def pooled_windows(now: datetime, span: timedelta, days: list[int]) -> list[datetime]:
    """Starts of the earlier windows a ``span``-long window ending at ``now`` is compared with:
    on each earlier day, the windows aligned to multiples of ``span`` within ``POOL_SPAN``
    lengths (at most ``POOL_MAX``) of the same time of day. Aligned, so a run a minute later
    reuses the counts."""
    reach = min(span * POOL_SPAN, POOL_MAX)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    starts: list[datetime] = []
    for d in days:
        centre = now - span - d * DAY
        first = epoch + span * -(-(centre - reach - epoch) // span)
        moment = first
        while moment <= centre + reach:
            starts.append(moment)
            moment += span
    return starts


def pooled_counts(
    source: LogSource,
    state: DetectionState,
    *,
    group_by: str,
    now: datetime,
    span: timedelta,
    days: list[int],
    query: str = ERROR_QUERY,
) -> tuple[dict[str, int], int]:
    """Distinct users per group summed over the earlier windows, and how many windows."""
    totals: dict[str, int] = {}
    starts = pooled_windows(now, span, days)
    for start in starts:
        key = (f"{group_by}|{query}", start, span)
        counts = state.past.get(key)
        if counts is None:
            counts = distinct_by(
                source, query, start, start + span, field="@user_uuid", group_by=group_by
            )
            state.past[key] = counts
        for group, n in counts.items():
            totals[group] = totals.get(group, 0) + n
    return totals, len(starts)


def pooled_window(
    label: str,
    users: int,
    total: int,
    windows: int,
    days: int,
    scope: str = "",
    *,
    span: timedelta = DETECTION_WINDOW,
) -> WindowCount:
    """A detection window: the count now against the pooled earlier windows, with the chance."""
    return WindowCount(
        label,
        users,
        total / windows if windows else None,
        days,
        scope=scope,
        baseline_windows=windows,
        minutes=span.total_seconds() / 60,
        chance=rate_change_chance(users, total, windows) if windows else None,
    )


def _crossing(
    source: LogSource,
    state: DetectionState,
    coverage: Coverage,
    now: datetime,
    t: Thresholds,
    *,
    group_by: str,
    skip: Callable[[str], bool],
) -> dict[str, list[WindowCount]]:
    """Groups (signatures or facilities) whose distinct users with errors crossed the
    detection test in a short or long window: group -> the windows that crossed."""
    found: dict[str, list[WindowCount]] = {}
    for label, span in DETECTION_WINDOWS:
        start = now - span
        users = distinct_by(source, ERROR_QUERY, start, now, field="@user_uuid", group_by=group_by)
        busy = {g: n for g, n in users.items() if n >= t.min_users and not skip(g)}
        if not busy:
            continue
        days = baseline_days(coverage, start, now)
        totals, windows = pooled_counts(
            source, state, group_by=group_by, now=now, span=span, days=days
        )
        for group, n in busy.items():
            w = pooled_window(label, n, totals.get(group, 0), windows, len(days), span=span)
            if window_crowded(w, t) or (not windows and crowded(n, None, t)):
                found.setdefault(group, []).append(w)
    return found


def _security_candidates(
    source: LogSource,
    start: datetime,
    end: datetime,
    t: Thresholds,
    skip: set[str],
    token: Callable[[str], str],
) -> list[Candidate]:
    found: list[Candidate] = []
    readers = distinct_by(
        source, "@payload.icn:*", start, end, field="@payload.icn", group_by="@user_uuid"
    )
    signins = distinct_by(
        source,
        both(ERROR_QUERY, f"@path:{quote(SIGN_IN_PATH)}"),
        start,
        end,
        field="@named_tags.remote_ip",
        group_by="@user_uuid",
    )
    for user, patients in sorted(readers.items()):
        if patients < t.security_min_patients:
            continue
        key = f"security:reads:{token(user)}"
        if key in skip:
            continue
        facts = CaseFacts(security=SecurityFacts(patients_read=patients), for_ticket=False)
        found.append(
            Candidate(
                key=key,
                kind="security",
                title=f"One user read the records of {patients} patients",
                recommendation=recommend(facts, t),
                subject=user,
                numbers={"patients": patients},
            )
        )
    for user, addresses in sorted(signins.items()):
        if addresses < t.signin_min_addresses:
            continue
        key = f"security:signin:{token(user)}"
        if key in skip:
            continue
        facts = CaseFacts(security=SecurityFacts(signin_addresses=addresses), for_ticket=False)
        found.append(
            Candidate(
                key=key,
                kind="security",
                title=f"Failed sign-ins for one user from {addresses} addresses",
                recommendation=recommend(facts, t),
                subject=user,
                numbers={"addresses": addresses},
            )
        )
    return found


__all__ = [
    "Candidate",
    "Coverage",
    "DetectionState",
    "FacetShare",
    "Query",
    "SignatureReport",
    "TicketAnalysis",
    "concentration",
    "detect_candidates",
    "signature_report",
    "ticket_analysis",
    "upstream_facts",
]


# ---- the patterns list ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PatternRow:
    signature: str
    count: int
    users: int
    first_seen: datetime | None
    trend: tuple[int, ...]
    new_since_deploy: bool
    sample_message: str = ""

    @property
    def query(self) -> str:
        return signature_query(self.signature)


def top_signatures(
    source: LogSource,
    start: datetime,
    end: datetime,
    *,
    limit: int = 20,
    buckets: int = 24,
    deploy_lookback: timedelta = LOOKBACK,
) -> tuple[list[PatternRow], datetime | None]:
    """The most frequent error signatures in ``[start, end)`` and the last deploy before ``end``.

    ``new_since_deploy``: first seen (within the lookback) after the latest version change.
    """
    counts = source.facets(ERROR_QUERY, start, end, fields=["@signature"], limit=limit)
    rows = [(str(v.value), v.count) for v in counts.get("@signature", []) if v.value]
    if not rows:
        return [], None
    users = distinct_by(source, ERROR_QUERY, start, end, field="@user_uuid", group_by="@signature")
    step = max((end - start) / buckets, timedelta(seconds=1))
    series = source.timeseries(
        both(ERROR_QUERY, "@signature:(" + " OR ".join(quote(s) for s, _ in rows) + ")"),
        start,
        end,
        interval=step,
        group_by="@signature",
        limit=limit,
    )
    trend: dict[str, list[int]] = {s: [0] * buckets for s, _ in rows}
    for b in series:
        if b.group in trend:
            index = min(buckets - 1, max(0, int((b.start - start) / step)))
            trend[b.group][index] += b.count
    deploy = version_change_before(source, end, within=deploy_lookback)
    found: list[PatternRow] = []
    for sig, n in rows:
        first = first_event(source, signature_query(sig), end - deploy_lookback, end)
        seen = first.ts if first else None
        found.append(
            PatternRow(
                signature=sig,
                count=n,
                users=users.get(sig, 0),
                first_seen=seen,
                trend=tuple(trend[sig]),
                new_since_deploy=bool(deploy and seen and seen >= deploy),
                sample_message=str(first.columns.get("message") or "") if first else "",
            )
        )
    return found, deploy
