"""API: ``/api/v1/logs/search``, ``/facets``, ``/timeseries``, ``/aggregate``. Thin.

Permissions, masking and the audit row live in ``services``. A query syntax error is a 400 with
``position`` and ``expected``; a bad time is a 400 naming ``from`` or ``to``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from backline.accounts.models import User
from backline.api import error_response
from backline.logs import services
from backline.logs.query import QuerySyntaxError, TimeRangeError, parse_range
from backline.logs.source import iso_utc
from backline.logs.store import LogStoreBusy

router = Router(tags=["logs"])
T = TypeVar("T")
_INTERVAL_RE = re.compile(r"(\d{1,6})\s*([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class SearchIn(Schema):
    query: str = ""
    limit: int = 50
    cursor: str | None = None
    sort: Literal["desc", "asc"] = "desc"
    ticket: str = ""


def _window(request: HttpRequest) -> tuple[datetime, datetime]:
    try:
        window = parse_range(
            request.GET.get("from", "now-15m"), request.GET.get("to", "now"), timezone.now()
        )
    except TimeRangeError as exc:
        raise _BadTime(str(exc)) from None
    return window.start, window.end


class _BadTime(Exception):
    pass


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _answer(request: HttpRequest, produce: Callable[[], T]) -> T | HttpResponse:
    """Run a read, turning the language's and the store's errors into JSON answers."""
    try:
        return produce()
    except QuerySyntaxError as exc:
        return error_response(
            request,
            400,
            f"Query syntax error: {exc}",
            {"query": [str(exc)]},
            position=exc.position,
            expected=exc.expected,
        )
    except _BadTime as exc:
        return error_response(request, 400, str(exc), {"window": [str(exc)]})
    except LogStoreBusy as exc:
        return error_response(request, 503, str(exc))
    except ValueError as exc:
        return error_response(request, 400, str(exc))


def _interval(text: str) -> timedelta:
    match = _INTERVAL_RE.fullmatch(text.strip())
    if match is None:
        raise HttpError(400, f"interval {text!r}: use e.g. 30s, 5m, 1h or 1d")
    value = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if value <= timedelta(0):
        raise HttpError(400, "interval must be positive")
    return value


@router.get("/search", summary="Search log events (Datadog query syntax)")
def search(
    request: HttpRequest,
    params: Query[SearchIn],
) -> Any:
    """``?query=status:error @user_uuid:...&from=now-1h&to=now&limit=50&cursor=...``"""

    def run() -> dict[str, Any]:
        start, end = _window(request)
        page = services.logs_search(
            user=_user(request),
            query=params.query,
            start=start,
            end=end,
            limit=params.limit,
            cursor=params.cursor,
            sort=params.sort,
            ticket_number=params.ticket,
        )
        return {
            "from": iso_utc(start),
            "to": iso_utc(end),
            "events": [event.as_dict() for event in page.events],
            "next_cursor": page.next_cursor,
        }

    return _answer(request, run)


@router.get("/facets", summary="Most frequent values of fields among matching events")
def facets(request: HttpRequest, query: str = "", fields: str = "service", limit: int = 10) -> Any:
    """``fields`` is comma-separated: ``service,status,@error_code``."""
    names = [name.strip() for name in fields.split(",") if name.strip()]

    def run() -> dict[str, Any]:
        start, end = _window(request)
        result = services.logs_facets(
            user=_user(request), query=query, start=start, end=end, fields=names, limit=limit
        )
        return {
            "from": iso_utc(start),
            "to": iso_utc(end),
            "facets": {
                name: [{"value": v.value, "count": v.count} for v in values]
                for name, values in result.items()
            },
        }

    return _answer(request, run)


@router.get("/timeseries", summary="Matching events counted per interval")
def timeseries(
    request: HttpRequest,
    query: str = "",
    interval: str = "1m",
    group_by: str | None = None,
    limit: int = 10,
) -> Any:
    step = _interval(interval)

    def run() -> dict[str, Any]:
        start, end = _window(request)
        buckets = services.logs_timeseries(
            user=_user(request),
            query=query,
            start=start,
            end=end,
            interval=step,
            group_by=group_by or None,
            limit=limit,
        )
        return {
            "from": iso_utc(start),
            "to": iso_utc(end),
            "interval_seconds": int(step.total_seconds()),
            "buckets": [
                {"start": iso_utc(b.start), "group": b.group, "count": b.count} for b in buckets
            ],
        }

    return _answer(request, run)


@router.get("/aggregate", summary="Percentiles or distinct counts of a field, per group")
def aggregate(
    request: HttpRequest,
    field: str,
    kind: Literal["percentiles", "distinct"] = "percentiles",
    query: str = "",
    group_by: str | None = None,
    ps: str = "50,95,99",
    limit: int = 10,
) -> Any:
    try:
        percents = tuple(int(p) for p in ps.split(",") if p.strip())
    except ValueError:
        raise HttpError(400, "ps must be comma-separated whole numbers, e.g. 50,95,99") from None

    def run() -> dict[str, Any]:
        start, end = _window(request)
        rows = services.logs_aggregate(
            user=_user(request),
            kind=kind,
            query=query,
            start=start,
            end=end,
            field=field,
            group_by=group_by or None,
            ps=percents,
            limit=limit,
        )
        return {
            "from": iso_utc(start),
            "to": iso_utc(end),
            "rows": [{"group": r.group, **r.values} for r in rows],
        }

    return _answer(request, run)
