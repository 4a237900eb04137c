"""The Django side of upstream health: the checkpoint every health read goes through.

Owns the permission check (``health.view``: Tier 2 and up), the one audit row per look
(``health.view``, written in a transaction after the read succeeded, so a refused or failed read
leaves no row claiming numbers were seen) and the translation of bad input into domain errors.
The numbers come from ``selectors`` over the configured log source. These reads return aggregates
only (counts, rates, percentiles), so nothing here is masked: no identifier is ever in them.
Must not touch tickets, the log store's files or the query language's internals.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.audit.services import audit_record
from backline.errors import InvalidInput, NotFound
from backline.health import selectors
from backline.health.selectors import (
    CohortComparison,
    Dashboard,
    Overview,
    UnknownName,
)
from backline.logs.query import QuerySyntaxError, TimeRangeError, parse_range, parse_time
from backline.logs.services import get_source

T = TypeVar("T")


def _invalid(field: str, exc: Exception) -> InvalidInput:
    return InvalidInput(f"{field}: {exc}", {field: [str(exc)]})


def parse_at(text: str | None, *, now: datetime | None = None) -> datetime:
    """The moment a dashboard judges at: ``now`` when empty, else ``now-1h``, ISO 8601, epoch ms.

    Simulated or imported logs lie in the past; ``at`` lets a dashboard show them as they were.
    """
    current = now or timezone.now()
    if not text or not text.strip():
        return current
    try:
        return parse_time(text, current)
    except TimeRangeError as exc:
        raise _invalid("at", exc) from None


def parse_window(text: str | None) -> selectors.Window:
    try:
        return selectors.window_for((text or selectors.DEFAULT_WINDOW).strip())
    except UnknownName as exc:
        raise _invalid("window", exc) from None


def _read(
    *,
    user: User,
    what: str,
    query: str,
    run: Callable[[], T],
    count: Callable[[T], int],
    detail: dict[str, Any],
) -> T:
    """Permission, the read, then its audit row (one per look, whatever the number of queries)."""
    require(user, Action.HEALTH_VIEW)
    try:
        result = run()
    except QuerySyntaxError as exc:
        raise InvalidInput(
            f"Query syntax error: {exc}", {"q": [f"{exc.message} (expected {exc.expected})"]}
        ) from None
    with transaction.atomic():
        audit_record(
            actor=user,
            action="health.view",
            query=query,
            result_count=count(result),
            detail={"view": what, **detail},
        )
    return result


def health_overview(
    *, user: User, window: str | None = None, at: datetime | None = None
) -> Overview:
    """Every upstream's state and sparkline, and the facilities with the worst error rates."""
    chosen = parse_window(window)
    now = at or timezone.now()
    return _read(
        user=user,
        what="overview",
        query=selectors.ALL_CALLS_QUERY,
        run=lambda: selectors.overview(get_source(), window=chosen, now=now),
        count=lambda o: sum(u.total.calls for u in o.upstreams),
        detail={"window": chosen.key, "at": now.isoformat()},
    )


def health_upstream(
    *, user: User, name: str, window: str | None = None, at: datetime | None = None
) -> Dashboard:
    """One upstream's dashboard; ``NotFound`` for a name that is not an upstream."""
    chosen = parse_window(window)
    now = at or timezone.now()
    require(user, Action.HEALTH_VIEW)
    if name not in selectors.UPSTREAMS:
        raise NotFound(f"No upstream named {name!r}. Known: {', '.join(selectors.UPSTREAMS)}.")
    return _read(
        user=user,
        what="upstream",
        query=selectors.upstream_query(name),
        run=lambda: selectors.upstream_dashboard(get_source(), name, window=chosen, now=now),
        count=lambda d: d.total.calls,
        detail={"upstream": name, "window": chosen.key, "at": now.isoformat()},
    )


def health_facility(
    *,
    user: User,
    station: str,
    window: str | None = None,
    upstream: str | None = None,
    at: datetime | None = None,
) -> Dashboard:
    """One facility's dashboard (optionally one upstream's calls for it)."""
    chosen = parse_window(window)
    now = at or timezone.now()
    require(user, Action.HEALTH_VIEW)
    try:
        station = selectors.check_station(station)
    except UnknownName as exc:
        raise _invalid("station", exc) from None
    if upstream and upstream not in selectors.UPSTREAMS:
        raise _invalid("upstream", UnknownName(f"no upstream named {upstream!r}"))
    return _read(
        user=user,
        what="facility",
        query=selectors.facility_query(station, upstream or None),
        run=lambda: selectors.facility_dashboard(
            get_source(), station, window=chosen, now=now, upstream=upstream or None
        ),
        count=lambda d: d.total.calls,
        detail={
            "station": station,
            "upstream": upstream or "",
            "window": chosen.key,
            "at": now.isoformat(),
        },
    )


def health_cohorts(
    *,
    user: User,
    field: str,
    query: str = "",
    start_text: str = "now-1h",
    end_text: str = "now",
    now: datetime | None = None,
) -> CohortComparison:
    """Latency and error figures per cohort of ``field``, next to the overall figures."""
    require(user, Action.HEALTH_VIEW)
    try:
        cohort = selectors.cohort_field(field)
    except UnknownName as exc:
        raise _invalid("field", exc) from None
    current = now or timezone.now()
    try:
        window = parse_range(start_text or "now-1h", end_text or "now", current)
    except TimeRangeError as exc:
        raise _invalid("from", exc) from None
    return _read(
        user=user,
        what="cohorts",
        query=query.strip() or cohort.default_query,
        run=lambda: selectors.cohort_comparison(
            get_source(), field=cohort, query=query, start=window.start, end=window.end
        ),
        count=lambda c: c.overall.events,
        detail={
            "field": cohort.key,
            "from": window.start.isoformat(),
            "to": window.end.isoformat(),
        },
    )
