"""API: ``/api/v1/health/upstreams``, ``/upstreams/{name}``, ``/facilities/{station}``, ``/cohorts``.

Thin: permission (``health.view``, Tier 2 and up), the audit row and input checks live in
``services``. Answers are aggregates only (counts, rates, latency percentiles), never events or
identifiers. Times are ISO 8601 UTC; rates are fractions (0.25 = 25%); latencies are milliseconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from backline.accounts.models import User
from backline.api import error_response
from backline.health import services
from backline.health.rules import CallStats, Decision
from backline.health.selectors import CohortRow, Dashboard, PartHealth, Point
from backline.logs.source import iso_utc
from backline.logs.store import LogStoreBusy

router = Router(tags=["health"])

WindowKey = Literal["1h", "4h", "24h", "7d"]


class StateOut(Schema):
    state: Literal["normal", "degraded", "down"]
    rule: str
    reason: str
    text: str
    breaker_tripped: bool
    numbers: dict[str, float | int | None]


class StatsOut(Schema):
    calls: int
    errors: int
    error_rate: float | None


class PointOut(Schema):
    start: str
    calls: int
    errors: int
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


class PartOut(Schema):
    key: str
    label: str
    state: StateOut
    last_15_minutes: StatsOut


class UpstreamRowOut(Schema):
    name: str
    label: str
    state: StateOut
    window: StatsOut
    error_rate_per_bucket: list[float | None]
    calls_per_bucket: list[int]


class FacilityRowOut(Schema):
    station: str
    data_source: str
    state: Literal["normal", "degraded", "down"]
    reasons: list[str]
    window: StatsOut


class OverviewOut(Schema):
    window: str
    at: str
    start: str
    end: str
    interval_seconds: int
    upstreams: list[UpstreamRowOut]
    worst_facilities: list[FacilityRowOut]


class DashboardOut(Schema):
    kind: str
    key: str
    label: str
    query: str
    window: str
    at: str
    start: str
    end: str
    interval_seconds: int
    state: StateOut
    totals: StatsOut
    points: list[PointOut]
    last_week: list[PointOut]
    parts: list[PartOut]


class CohortRowOut(Schema):
    value: str
    label: str
    events: int
    errors: int
    error_rate: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    flagged: bool
    flags: list[str]


class CohortsOut(Schema):
    field: str
    field_label: str
    query: str
    start: str
    end: str
    overall: CohortRowOut
    cohorts: list[CohortRowOut]
    hidden_identifier_like_groups: int


class CohortsIn(Schema):
    field: str = Field("data_source", description="A preset or another attribute name")
    q: str = Field("", description="Datadog query narrowing the events")
    from_: str = Field("now-1h", alias="from", description="now-1h, ISO 8601 or epoch ms")
    to: str = Field("now", description="now, ISO 8601 or epoch ms")


class ErrorOut(Schema):
    message: str
    fields: dict[str, list[str]]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _state(decision: Decision) -> dict[str, Any]:
    return {
        "state": decision.state.value,
        "rule": decision.rule,
        "reason": decision.reason,
        "text": decision.text,
        "breaker_tripped": decision.breaker_tripped,
        "numbers": decision.numbers,
    }


def _stats(stats: CallStats) -> dict[str, Any]:
    return {"calls": stats.calls, "errors": stats.errors, "error_rate": stats.error_rate}


def _point(point: Point) -> dict[str, Any]:
    return {
        "start": iso_utc(point.start),
        "calls": point.calls,
        "errors": point.errors,
        "error_rate": point.error_rate,
        "p50_ms": point.p50_ms,
        "p95_ms": point.p95_ms,
        "p99_ms": point.p99_ms,
    }


def _part(part: PartHealth) -> dict[str, Any]:
    return {
        "key": part.key,
        "label": part.label,
        "state": _state(part.decision),
        "last_15_minutes": _stats(part.recent),
    }


def _dashboard(d: Dashboard) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "key": d.key,
        "label": d.label,
        "query": d.query,
        "window": d.window.key,
        "at": iso_utc(d.now),
        "start": iso_utc(d.start),
        "end": iso_utc(d.end),
        "interval_seconds": int(d.window.interval.total_seconds()),
        "state": _state(d.decision),
        "totals": _stats(d.total),
        "points": [_point(p) for p in d.points],
        "last_week": [_point(p) for p in d.last_week],
        "parts": [_part(p) for p in d.parts],
    }


def _cohort(row: CohortRow) -> dict[str, Any]:
    return {
        "value": row.value,
        "label": row.label,
        "events": row.events,
        "errors": row.errors,
        "error_rate": row.error_rate,
        "p50_ms": row.p50_ms,
        "p95_ms": row.p95_ms,
        "p99_ms": row.p99_ms,
        "flagged": bool(row.flags),
        "flags": list(row.flags),
    }


def _busy(request: HttpRequest, exc: LogStoreBusy) -> HttpResponse:
    return error_response(request, 503, str(exc))


def _at(at: str | None) -> datetime:
    return services.parse_at(at)


_ERRORS: dict[int, type[Schema]] = {
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
    503: ErrorOut,
}


@router.get(
    "/upstreams",
    response={200: OverviewOut, **_ERRORS},
    summary="Every upstream's state, sparkline numbers and the worst facilities",
)
def upstreams(request: HttpRequest, window: WindowKey = "4h", at: str | None = None) -> Any:
    """State of MHV API, VistA, Oracle Health, MPI (and sign-in providers with calls), judged at
    ``at`` (default now; ``now-2h``, ISO 8601 or epoch ms), with per-bucket call and error
    numbers over ``window`` and the facilities with the worst error rates."""
    try:
        result = services.health_overview(user=_user(request), window=window, at=_at(at))
    except LogStoreBusy as exc:
        return _busy(request, exc)
    return {
        "window": result.window.key,
        "at": iso_utc(result.now),
        "start": iso_utc(result.start),
        "end": iso_utc(result.end),
        "interval_seconds": int(result.window.interval.total_seconds()),
        "upstreams": [
            {
                "name": row.name,
                "label": row.label,
                "state": _state(row.decision),
                "window": _stats(row.total),
                "error_rate_per_bucket": [None if v is None else v / 100 for v in row.error_rates],
                "calls_per_bucket": list(row.calls),
            }
            for row in result.upstreams
        ],
        "worst_facilities": [
            {
                "station": f.station,
                "data_source": f.data_source,
                "state": f.state.value,
                "reasons": list(f.reasons),
                "window": _stats(f.total),
            }
            for f in result.worst_facilities
        ],
    }


@router.get(
    "/upstreams/{name}",
    response={200: DashboardOut, **_ERRORS},
    summary="One upstream: state with its rule, per-facility states, rate/error/latency series",
)
def upstream(
    request: HttpRequest, name: str, window: WindowKey = "4h", at: str | None = None
) -> Any:
    """``points`` and ``last_week`` are the same buckets a week apart, index for index."""
    try:
        result = services.health_upstream(user=_user(request), name=name, window=window, at=_at(at))
    except LogStoreBusy as exc:
        return _busy(request, exc)
    return _dashboard(result)


@router.get(
    "/facilities/{station}",
    response={200: DashboardOut, **_ERRORS},
    summary="One facility (station number): each upstream's state for it, and its series",
)
def facility(
    request: HttpRequest,
    station: str,
    window: WindowKey = "4h",
    upstream: str = "",
    at: str | None = None,
) -> Any:
    """The facility's state is its worst upstream's; ``upstream`` narrows the series."""
    try:
        result = services.health_facility(
            user=_user(request), station=station, window=window, upstream=upstream, at=_at(at)
        )
    except LogStoreBusy as exc:
        return _busy(request, exc)
    return _dashboard(result)


@router.get(
    "/cohorts",
    response={200: CohortsOut, **_ERRORS},
    summary="Latency and error percentiles per cohort, next to the overall figures",
)
def cohorts(request: HttpRequest, params: Query[CohortsIn]) -> Any:
    """``field``: facility, data_source, version, browser, credential, upstream, path, host, or
    another attribute (not one that identifies a patient or a request). ``q`` narrows the events
    (Datadog syntax; default: the field's own, usually portal requests). ``from``/``to`` as in log
    search. A cohort with p95 or error rate at least 2x overall is flagged, with the reason."""
    try:
        result = services.health_cohorts(
            user=_user(request),
            field=params.field,
            query=params.q,
            start_text=params.from_,
            end_text=params.to,
        )
    except LogStoreBusy as exc:
        return _busy(request, exc)
    return {
        "field": result.field.key,
        "field_label": result.field.label,
        "query": result.query,
        "start": iso_utc(result.start),
        "end": iso_utc(result.end),
        "overall": _cohort(result.overall),
        "cohorts": [_cohort(row) for row in result.rows],
        "hidden_identifier_like_groups": result.hidden,
    }
