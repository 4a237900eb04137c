"""Reads behind the health dashboards: upstream and facility health, and cohort comparison.

Every function takes a ``LogSource`` (the embedded store or Datadog) and an explicit ``now``, and
returns plain dataclasses of aggregates: counts, rates and latency percentiles, never an event and
never a user identifier. Framework-free; permissions and the audit row live in ``services``.

What is measured:

- *Upstream calls* are the portal's outbound-call events (``@upstream:<name>``); a call failed
  when it was logged with status error or critical (``ERROR_QUERY``; see ``rules``).
- *Requests* (the cohorts' default) are the portal's own completion events, the ones without an
  ``upstream`` attribute.
- Charts put this window next to the same hours one week earlier (``WEEK``), bucket by bucket.

The log source has no percentile-per-time-bucket aggregate, so latency over time is one
percentile query per bucket (at most 60 per series, each over a short window).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from backline.health.rules import (
    DEFAULT_COHORT_THRESHOLDS,
    DEFAULT_THRESHOLDS,
    CallStats,
    CohortThresholds,
    Decision,
    HealthInputs,
    State,
    Thresholds,
    cohort_flags,
    decide_state,
    worst,
)
from backline.logs import schema
from backline.logs.source import LogSource, field_name

WEEK = timedelta(days=7)
ERROR_QUERY = "status:(error OR critical)"
ALL_CALLS_QUERY = "@upstream:*"
REQUESTS_QUERY = "-@upstream:*"

UPSTREAMS: dict[str, str] = {
    "mhv_api": "MHV API",
    "vista": "VistA",
    "oracle_health": "Oracle Health",
    "mpi": "MPI (identity)",
    "idme": "ID.me sign-in",
    "logingov": "Login.gov sign-in",
}
CORE_UPSTREAMS = ("mhv_api", "vista", "oracle_health", "mpi")
SIGN_IN_UPSTREAMS = ("idme", "logingov")


@dataclass(frozen=True)
class Window:
    """A dashboard time window and its bucket size."""

    key: str
    label: str
    span: timedelta
    interval: timedelta


# About 40-60 buckets each: enough shape to read, few enough percentile queries.
WINDOWS: dict[str, Window] = {
    "1h": Window("1h", "Last hour", timedelta(hours=1), timedelta(minutes=1)),
    "4h": Window("4h", "Last 4 hours", timedelta(hours=4), timedelta(minutes=5)),
    "24h": Window("24h", "Last 24 hours", timedelta(hours=24), timedelta(minutes=30)),
    "7d": Window("7d", "Last 7 days", timedelta(days=7), timedelta(hours=4)),
}
DEFAULT_WINDOW = "4h"

_STATION_RE = re.compile(r"[0-9]{3}[A-Z0-9]{0,4}")
_UPSTREAM_RE = re.compile(r"[a-z][a-z0-9_]{0,40}")


class UnknownName(ValueError):
    """An upstream, facility, window or cohort field that is not valid; the message says why."""


def window_for(key: str) -> Window:
    """The window for ``1h``/``4h``/``24h``/``7d``; ``UnknownName`` otherwise."""
    try:
        return WINDOWS[key]
    except KeyError:
        raise UnknownName(f"window {key!r} is not one of {', '.join(WINDOWS)}") from None


def check_station(station: str) -> str:
    """A VA station number such as ``589`` or ``528A7``; ``UnknownName`` otherwise."""
    cleaned = station.strip().upper()
    if not _STATION_RE.fullmatch(cleaned):
        raise UnknownName(f"{station!r} is not a station number (e.g. 589 or 528A7)")
    return cleaned


def check_upstream(name: str) -> str:
    """A known upstream name; ``UnknownName`` otherwise."""
    if name not in UPSTREAMS:
        raise UnknownName(f"no upstream named {name!r}; known: {', '.join(UPSTREAMS)}")
    return name


def upstream_query(name: str) -> str:
    return f"@upstream:{check_upstream(name)}"


def facility_query(station: str, upstream: str | None = None) -> str:
    part = f"@upstream:{check_upstream(upstream)}" if upstream else ALL_CALLS_QUERY
    return f"{part} @facility:{check_station(station)}"


def _and(query: str, extra: str) -> str:
    query = query.strip()
    return f"({query}) {extra}" if query else extra


def _floor(moment: datetime, interval: timedelta) -> datetime:
    seconds = int(interval.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


# -- counting -----------------------------------------------------------------------------------


def _count(source: LogSource, query: str, start: datetime, end: datetime) -> int:
    # One bucket as wide as the window; epoch alignment may split it in two, so add them up.
    buckets = source.timeseries(query, start, end, interval=end - start)
    return sum(b.count for b in buckets)


def window_stats(
    source: LogSource, query: str, start: datetime, end: datetime, *, p95: bool = False
) -> CallStats:
    """Calls matching ``query`` in ``[start, end)``, how many failed, and optionally their p95."""
    calls = _count(source, query, start, end)
    errors = _count(source, _and(query, ERROR_QUERY), start, end) if calls else 0
    latency = None
    if p95 and calls:
        rows = source.percentiles(query, start, end, field="duration_ms", ps=(95,))
        latency = rows[0].values.get("p95") if rows else None
    return CallStats(calls=calls, errors=min(errors, calls), p95_ms=latency)


def grouped_stats(
    source: LogSource,
    query: str,
    start: datetime,
    end: datetime,
    group_by: str,
    *,
    p95: bool = False,
    limit: int = 1000,
) -> dict[str, CallStats]:
    """``window_stats`` per value of ``group_by`` (events without the field are left out)."""
    totals = source.facets(query, start, end, fields=[group_by], limit=limit)[group_by]
    counts = {v.value: v.count for v in totals if v.value is not None}
    if not counts:
        return {}
    failed = source.facets(_and(query, ERROR_QUERY), start, end, fields=[group_by], limit=limit)
    errors = {v.value: v.count for v in failed[group_by] if v.value is not None}
    latencies: dict[str, float | None] = {}
    if p95:
        for row in source.percentiles(
            query, start, end, field="duration_ms", ps=(95,), group_by=group_by, limit=limit
        ):
            if row.group is not None:
                latencies[row.group] = row.values.get("p95")
    return {
        value: CallStats(
            calls=calls, errors=min(errors.get(value, 0), calls), p95_ms=latencies.get(value)
        )
        for value, calls in counts.items()
    }


# -- state --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Windows:
    down: tuple[datetime, datetime]
    breaker: tuple[datetime, datetime]
    recent: tuple[datetime, datetime]
    baseline: tuple[datetime, datetime]


def _windows(now: datetime, t: Thresholds) -> _Windows:
    return _Windows(
        down=(now - t.down_window, now),
        breaker=(now - t.breaker_window, now),
        recent=(now - t.recent_window, now),
        baseline=(now - WEEK - t.baseline_window, now - WEEK),
    )


def assess(
    source: LogSource,
    query: str,
    subject: str,
    now: datetime,
    *,
    parts_down: tuple[str, ...] = (),
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Decision:
    """The state of the calls matching ``query`` at ``now``, decided by ``rules.decide_state``."""
    w = _windows(now, thresholds)
    inputs = HealthInputs(
        subject=subject,
        down=window_stats(source, query, *w.down),
        breaker=window_stats(source, query, *w.breaker),
        recent=window_stats(source, query, *w.recent, p95=True),
        baseline=window_stats(source, query, *w.baseline, p95=True),
        parts_down=parts_down,
    )
    return decide_state(inputs, thresholds)


def assess_grouped(
    source: LogSource,
    query: str,
    group_by: str,
    subject: Callable[[str], str],
    now: datetime,
    *,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> dict[str, Decision]:
    """The state of each group (every value of ``group_by`` seen recently) at ``now``."""
    w = _windows(now, thresholds)
    down = grouped_stats(source, query, *w.down, group_by)
    breaker = grouped_stats(source, query, *w.breaker, group_by)
    recent = grouped_stats(source, query, *w.recent, group_by, p95=True)
    baseline = grouped_stats(source, query, *w.baseline, group_by, p95=True)
    empty = CallStats(0, 0)
    return {
        value: decide_state(
            HealthInputs(
                subject=subject(value),
                down=down.get(value, empty),
                breaker=breaker.get(value, empty),
                recent=recent.get(value, empty),
                baseline=baseline.get(value, empty),
            ),
            thresholds,
        )
        for value in sorted(set(down) | set(recent))
    }


# -- dashboards ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One time bucket: calls, failed calls, and latency percentiles (None without calls)."""

    start: datetime
    calls: int
    errors: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.calls if self.calls else None


@dataclass(frozen=True)
class PartHealth:
    """One part of a dashboard's subject (a facility of an upstream, an upstream at a facility)."""

    key: str
    label: str
    decision: Decision
    recent: CallStats


@dataclass(frozen=True)
class Dashboard:
    """Everything one upstream or facility page shows.

    ``points`` cover ``[start, end)`` in ``window.interval`` buckets; ``last_week`` holds the same
    buckets seven days earlier, index for index.
    """

    kind: str  # "upstream" or "facility"
    key: str
    label: str
    query: str
    window: Window
    now: datetime
    start: datetime
    end: datetime
    decision: Decision
    points: list[Point]
    last_week: list[Point]
    parts: list[PartHealth] = field(default_factory=list)

    @property
    def total(self) -> CallStats:
        calls = sum(p.calls for p in self.points)
        return CallStats(calls=calls, errors=sum(p.errors for p in self.points))


def series(
    source: LogSource, query: str, start: datetime, end: datetime, interval: timedelta
) -> list[Point]:
    """Calls, failures and p50/p95/p99 per bucket over ``[start, end)`` (buckets from ``start``)."""
    count = max(1, math.ceil((end - start) / interval))
    starts = [start + i * interval for i in range(count)]

    def per_bucket(q: str) -> list[int]:
        totals = [0] * count
        for bucket in source.timeseries(q, start, end, interval=interval):
            index = int((bucket.start - start) / interval)
            if 0 <= index < count:
                totals[index] += bucket.count
        return totals

    calls = per_bucket(query)
    errors = per_bucket(_and(query, ERROR_QUERY)) if any(calls) else [0] * count
    points = []
    for i, bucket_start in enumerate(starts):
        latency: dict[str, float | None] = {}
        if calls[i]:
            rows = source.percentiles(
                query, bucket_start, bucket_start + interval, field="duration_ms"
            )
            latency = rows[0].values if rows else {}
        points.append(
            Point(
                start=bucket_start,
                calls=calls[i],
                errors=min(errors[i], calls[i]),
                p50_ms=latency.get("p50"),
                p95_ms=latency.get("p95"),
                p99_ms=latency.get("p99"),
            )
        )
    return points


def _span(window: Window, now: datetime) -> tuple[datetime, datetime]:
    # Whole buckets only: a half-filled last bucket would read as a sudden drop in traffic.
    end = _floor(now, window.interval)
    return end - window.span, end


def _facility_label(station: str) -> str:
    return f"station {station}"


def _subject_at_facility(name: str) -> Callable[[str], str]:
    return lambda station: f"{name} at {_facility_label(station)}"


def upstream_dashboard(
    source: LogSource,
    name: str,
    *,
    window: Window,
    now: datetime,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Dashboard:
    """One upstream: its state now, its per-facility states, and its charts' numbers."""
    query = upstream_query(name)
    facilities = assess_grouped(
        source,
        query,
        "@facility",
        _subject_at_facility(name),
        now,
        thresholds=thresholds,
    )
    down_parts = tuple(
        _facility_label(station)
        for station, decision in facilities.items()
        if decision.state is State.DOWN
    )
    decision = assess(source, query, name, now, parts_down=down_parts, thresholds=thresholds)
    start, end = _span(window, now)
    recent = grouped_stats(source, query, now - thresholds.recent_window, now, "@facility")
    parts = [
        PartHealth(
            key=station,
            label=_facility_label(station),
            decision=facilities[station],
            recent=recent.get(station, CallStats(0, 0)),
        )
        for station in facilities
    ]
    parts.sort(key=lambda p: (-p.decision.state.severity, -(p.recent.error_rate or 0), p.key))
    return Dashboard(
        kind="upstream",
        key=name,
        label=UPSTREAMS[name],
        query=query,
        window=window,
        now=now,
        start=start,
        end=end,
        decision=decision,
        points=series(source, query, start, end, window.interval),
        last_week=series(source, query, start - WEEK, end - WEEK, window.interval),
        parts=parts,
    )


def facility_dashboard(
    source: LogSource,
    station: str,
    *,
    window: Window,
    now: datetime,
    upstream: str | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Dashboard:
    """One facility: each upstream's state for its patients (the worst decides), and charts.

    The charts cover every upstream call made for the station's patients, or only ``upstream``'s.
    """
    station = check_station(station)
    per_upstream = assess_grouped(
        source,
        facility_query(station),
        "@upstream",
        lambda name: f"{name} at {_facility_label(station)}",
        now,
        thresholds=thresholds,
    )
    recent = grouped_stats(
        source, facility_query(station), now - thresholds.recent_window, now, "@upstream"
    )
    parts = [
        PartHealth(
            key=name,
            label=UPSTREAMS.get(name, name),
            decision=decision,
            recent=recent.get(name, CallStats(0, 0)),
        )
        for name, decision in per_upstream.items()
    ]
    parts.sort(key=lambda p: (-p.decision.state.severity, p.key))
    if parts:
        decision = parts[0].decision
    else:
        decision = assess(
            source,
            facility_query(station),
            f"calls for {_facility_label(station)}",
            now,
            thresholds=thresholds,
        )
    query = facility_query(station, upstream)
    start, end = _span(window, now)
    return Dashboard(
        kind="facility",
        key=station,
        label=f"Station {station}" + (f": {UPSTREAMS[upstream]}" if upstream else ""),
        query=query,
        window=window,
        now=now,
        start=start,
        end=end,
        decision=decision,
        points=series(source, query, start, end, window.interval),
        last_week=series(source, query, start - WEEK, end - WEEK, window.interval),
        parts=parts,
    )


# -- overview -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UpstreamSummary:
    """One row of the overview: state, numbers over the window, and sparkline values per bucket."""

    name: str
    label: str
    decision: Decision
    total: CallStats
    error_rates: tuple[float | None, ...]
    calls: tuple[int, ...]


@dataclass(frozen=True)
class FacilitySummary:
    """A facility on the overview: its upstream calls over the window and its worst state now."""

    station: str
    data_source: str
    total: CallStats
    state: State
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    window: Window
    now: datetime
    start: datetime
    end: datetime
    upstreams: list[UpstreamSummary]
    worst_facilities: list[FacilitySummary]


def overview(
    source: LogSource,
    *,
    window: Window,
    now: datetime,
    facilities: int = 10,
    min_calls: int = 20,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> Overview:
    """Every upstream (sign-in providers when they had calls) and the worst facilities.

    Facilities are ranked by their worst upstream state now, then by error rate over the window;
    those with fewer than ``min_calls`` calls in the window are left out (a few calls are noise).
    """
    start, end = _span(window, now)
    seen = source.facets(ALL_CALLS_QUERY, start, now, fields=["@upstream"], limit=50)["@upstream"]
    present = {v.value for v in seen if v.value}
    names = [*CORE_UPSTREAMS, *(n for n in SIGN_IN_UPSTREAMS if n in present)]
    facility_states: dict[str, list[Decision]] = {}
    rows = []
    for name in names:
        query = upstream_query(name)
        per_facility = assess_grouped(
            source,
            query,
            "@facility",
            _subject_at_facility(name),
            now,
            thresholds=thresholds,
        )
        for station, decision in per_facility.items():
            facility_states.setdefault(station, []).append(decision)
        down_parts = tuple(
            _facility_label(s) for s, d in per_facility.items() if d.state is State.DOWN
        )
        decision = assess(source, query, name, now, parts_down=down_parts, thresholds=thresholds)
        points = series_counts(source, query, start, end, window.interval)
        rows.append(
            UpstreamSummary(
                name=name,
                label=UPSTREAMS[name],
                decision=decision,
                total=CallStats(sum(c for c, _ in points), sum(e for _, e in points)),
                error_rates=tuple((e / c * 100) if c else None for c, e in points),
                calls=tuple(c for c, _ in points),
            )
        )
    totals = grouped_stats(source, ALL_CALLS_QUERY, start, now, "@facility")
    oracle_sites = set(
        grouped_stats(source, "@data_source_system:ORACLE_HEALTH", start, now, "@facility")
    )
    ranked = []
    for station, stats in totals.items():
        if stats.calls < min_calls:
            continue
        decisions = facility_states.get(station, [])
        state = worst([d.state for d in decisions])
        reasons = tuple(
            d.text
            for d in sorted(decisions, key=lambda d: -d.state.severity)
            if d.state is not State.NORMAL
        )
        ranked.append(
            FacilitySummary(
                station=station,
                data_source="Oracle Health" if station in oracle_sites else "VistA",
                total=stats,
                state=state,
                reasons=reasons,
            )
        )
    ranked.sort(key=lambda f: (-f.state.severity, -(f.total.error_rate or 0), f.station))
    return Overview(
        window=window,
        now=now,
        start=start,
        end=end,
        upstreams=rows,
        worst_facilities=ranked[:facilities],
    )


def series_counts(
    source: LogSource, query: str, start: datetime, end: datetime, interval: timedelta
) -> list[tuple[int, int]]:
    """(calls, failed calls) per bucket: the cheap half of ``series``, for sparklines."""
    count = max(1, math.ceil((end - start) / interval))
    calls = [0] * count
    errors = [0] * count
    for target, q in ((calls, query), (errors, _and(query, ERROR_QUERY))):
        for bucket in source.timeseries(q, start, end, interval=interval):
            index = int((bucket.start - start) / interval)
            if 0 <= index < count:
                target[index] += bucket.count
    return list(zip(calls, errors, strict=True))


# -- cohorts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CohortField:
    """A way to split events into cohorts: by one field, or by named sub-queries."""

    key: str
    label: str
    default_query: str
    group_by: str | None = None
    cohorts: tuple[tuple[str, str], ...] = ()  # (label, query) when not grouping by a field
    labels: tuple[tuple[str, str], ...] = ()  # value -> display label

    def label_for(self, value: str) -> str:
        return dict(self.labels).get(value, value)


_UA = "@named_tags.user_agent"
COHORT_FIELDS: dict[str, CohortField] = {
    f.key: f
    for f in (
        CohortField("facility", "Facility (station)", REQUESTS_QUERY, "@facility"),
        CohortField(
            "data_source",
            "Data source (VistA or Oracle Health)",
            REQUESTS_QUERY,
            "@data_source_system",
            labels=(("VISTA", "VistA"), ("ORACLE_HEALTH", "Oracle Health")),
        ),
        CohortField("version", "App version (deployed git SHA)", REQUESTS_QUERY, "version"),
        CohortField(
            "browser",
            "Browser family (from the user agent)",
            REQUESTS_QUERY,
            cohorts=(
                ("Edge", f"{_UA}:*Edg/*"),
                ("Firefox", f"{_UA}:*Firefox/*"),
                ("Chrome", f"{_UA}:*Chrome/* -{_UA}:*Edg/*"),
                ("Safari", f"{_UA}:*Safari/* -{_UA}:*Chrome/* -{_UA}:*Firefox/*"),
                ("Other", f"-{_UA}:*Edg/* -{_UA}:*Firefox/* -{_UA}:*Chrome/* -{_UA}:*Safari/*"),
            ),
        ),
        CohortField(
            "credential",
            "Sign-in credential (calls to ID.me and Login.gov)",
            "@upstream:(idme OR logingov)",
            "@upstream",
            labels=(("idme", "ID.me"), ("logingov", "Login.gov")),
        ),
        CohortField("upstream", "Upstream (outbound calls)", ALL_CALLS_QUERY, "@upstream"),
        CohortField("path", "Portal path", REQUESTS_QUERY, "path"),
        CohortField("host", "Host", REQUESTS_QUERY, "host"),
    )
}

# Fields that hold patient identifiers, or values unique to one person or one request: grouping
# by them would list identifiers (or one row per person), so they are refused outright.
_REFUSED_FIELDS = frozenset(
    {
        *schema.PROTECTED_ATTRIBUTES,
        *(p for c in schema.PROTECTED_COLUMNS for p in schema.SOURCE_PATHS.get(c, ())),
        *schema.PROTECTED_COLUMNS,
        "message",
        "msg",
        "request_id",
        "named_tags.request_id",
        "http.request_id",
        "trace_id",
        "dd.trace_id",
        "named_tags.remote_ip",
        "remote_ip",
        "network.client.ip",
        "named_tags.user_agent",
        "payload",
        "attrs",
    }
)
# Whole tokens only, so that a git SHA (40 hex digits) or a path with an order number is not
# mistaken for a UUID or an EDIPI.
_IDENTIFIER_LIKE = re.compile(
    r"(?<![0-9A-Za-z])(?:"
    r"\d{10}V\d{6}"  # ICN
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # UUID
    r"|[0-9a-f]{32}"  # UUID without dashes
    r"|\d{3}-\d{2}-\d{4}"  # SSN
    r"|\d{9,}"  # SSN without dashes, EDIPI, MHV ids, phone numbers
    r")(?![0-9A-Za-z])"
    r"|[^@\s]+@[^@\s]+\.[A-Za-z]{2,}",  # email
    re.IGNORECASE,
)


def cohort_field(key: str) -> CohortField:
    """A preset (``facility``, ``data_source`` ...) or any other non-identifying attribute."""
    preset = COHORT_FIELDS.get(key)
    if preset is not None:
        return preset
    try:
        name = field_name(key)
    except ValueError:
        raise UnknownName("choose a field to compare cohorts by") from None
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*", name):
        raise UnknownName(f"{key!r} is not a field name")
    column = schema.ATTRIBUTE_COLUMNS.get(name)
    if name in _REFUSED_FIELDS or (column is not None and column in _REFUSED_FIELDS):
        raise UnknownName(
            f"cohorts cannot be grouped by {name!r}: it identifies patients or single requests"
        )
    return CohortField(name, f"@{name}", REQUESTS_QUERY, f"@{name}")


def identifying_value(value: str) -> bool:
    """True for a value shaped like a patient identifier (ICN, UUID, SSN, long number, email)."""
    return bool(_IDENTIFIER_LIKE.search(value))


@dataclass(frozen=True)
class CohortRow:
    """One cohort's figures (or the overall figures), with why it is flagged, if it is."""

    value: str
    label: str
    events: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    flags: tuple[str, ...] = ()

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.events if self.events else None


@dataclass(frozen=True)
class CohortComparison:
    field: CohortField
    query: str
    start: datetime
    end: datetime
    overall: CohortRow
    rows: list[CohortRow]
    hidden: int = 0  # groups left out because their value looked like an identifier

    @property
    def flagged(self) -> list[CohortRow]:
        return [row for row in self.rows if row.flags]


def cohort_comparison(
    source: LogSource,
    *,
    field: CohortField,
    query: str,
    start: datetime,
    end: datetime,
    limit: int = 50,
    thresholds: CohortThresholds = DEFAULT_COHORT_THRESHOLDS,
) -> CohortComparison:
    """Error rate and p50/p95/p99 of ``duration_ms`` per cohort, next to the overall figures.

    ``query`` empty means the field's default (portal requests, or sign-in calls for the
    credential cohorts). Flags follow ``rules.cohort_flags``. Groups whose value looks like a
    patient identifier are never shown (counted in ``hidden``).
    """
    query = query.strip() or field.default_query
    if field.key == "credential" and query != field.default_query:
        query = _and(query, field.default_query)
    overall_stats = window_stats(source, query, start, end)
    overall_pct = source.percentiles(query, start, end, field="duration_ms")
    overall_values = overall_pct[0].values if overall_pct else {}
    overall = CohortRow(
        value="",
        label="Overall",
        events=overall_stats.calls,
        errors=overall_stats.errors,
        p50_ms=overall_values.get("p50"),
        p95_ms=overall_values.get("p95"),
        p99_ms=overall_values.get("p99"),
    )
    raw: list[tuple[str, str, CallStats, dict[str, float | None]]] = []
    hidden = 0
    if field.group_by is not None:
        stats = grouped_stats(source, query, start, end, field.group_by, limit=limit)
        percentiles = {
            row.group: row.values
            for row in source.percentiles(
                query, start, end, field="duration_ms", group_by=field.group_by, limit=limit
            )
            if row.group is not None
        }
        for value, group_stats in stats.items():
            if identifying_value(value):
                hidden += 1
                continue
            raw.append((value, field.label_for(value), group_stats, percentiles.get(value, {})))
    else:
        for label, cohort_query in field.cohorts:
            combined = _and(query, cohort_query)
            group_stats = window_stats(source, combined, start, end)
            if not group_stats.calls:
                continue
            rows = source.percentiles(combined, start, end, field="duration_ms")
            raw.append((label, label, group_stats, rows[0].values if rows else {}))
    result = []
    for value, label, group_stats, values in raw:
        flags = cohort_flags(
            events=group_stats.calls,
            errors=group_stats.errors,
            p95_ms=values.get("p95"),
            overall_error_rate=overall.error_rate,
            overall_p95_ms=overall.p95_ms,
            thresholds=thresholds,
        )
        result.append(
            CohortRow(
                value=value,
                label=label,
                events=group_stats.calls,
                errors=group_stats.errors,
                p50_ms=values.get("p50"),
                p95_ms=values.get("p95"),
                p99_ms=values.get("p99"),
                flags=tuple(flags),
            )
        )
    result.sort(key=lambda r: (not r.flags, -(r.p95_ms or 0), r.label))
    return CohortComparison(
        field=field, query=query, start=start, end=end, overall=overall, rows=result, hidden=hidden
    )
