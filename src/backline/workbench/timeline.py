"""One user's log events stitched into requests: the picture the Investigate panel draws.

Owns the rules that turn a flat, time-ordered list of events into what an engineer reads: the
portal requests (grouped by request id) with the upstream calls made while serving them nested
under them, which events and requests failed, the first failing request, quiet gaps between
requests, and sign-in activity. Framework-free: it knows nothing about Django, the log store or
who may see what; it takes events in the shape ``LogEvent.as_dict()`` gives (already masked or
not) with ``ts`` as an aware datetime.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

__all__ = [
    "DEFAULT_GAP",
    "Gap",
    "Request",
    "Timeline",
    "event_failed",
    "event_is_sign_in",
    "stitch",
]

DEFAULT_GAP = timedelta(minutes=10)
_ERROR_LEVELS = frozenset(
    {"error", "err", "critical", "crit", "alert", "emergency", "emerg", "fatal"}
)
_WARN_LEVELS = frozenset({"warn", "warning"})
_SIGN_IN_MARKERS = ("/sign_in", "/signin", "/auth/", "/login", "/oauth", "openid_connect")
_SIGN_IN_UPSTREAMS = frozenset({"idme", "logingov"})


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _status_code(event: Mapping[str, Any]) -> int | None:
    value = event.get("status_code")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    return None


def event_failed(event: Mapping[str, Any]) -> bool:
    """Did this event report a failure the user would feel?

    An error level, a 5xx, an upstream call whose outcome is ``failed``, or a warning that carries
    a 4xx (``RX138 record not found`` is logged as a warning, yet it is why the list is empty).
    A plain 4xx at info level (a 404 for a favicon) is not a failure.
    """
    level = _text(event.get("status")).strip().lower()
    code = _status_code(event)
    attrs = event.get("attrs")
    outcome = _text(attrs.get("upstream_outcome")) if isinstance(attrs, Mapping) else ""
    if level in _ERROR_LEVELS or (code is not None and code >= 500) or outcome == "failed":
        return True
    return level in _WARN_LEVELS and code is not None and code >= 400


def event_is_sign_in(event: Mapping[str, Any]) -> bool:
    """A sign-in, token refresh or identity-provider call (paths, route, upstream or message)."""
    attrs = event.get("attrs")
    route = _text(attrs.get("route")) if isinstance(attrs, Mapping) else ""
    where = f"{_text(event.get('path'))} {route}".lower()
    if any(marker in where for marker in _SIGN_IN_MARKERS):
        return True
    if _text(event.get("upstream")) in _SIGN_IN_UPSTREAMS:
        return True
    return _text(event.get("message")).lower().startswith("[signin]")


@dataclass
class Request:
    """One portal request: its own log line(s) and the upstream calls made while serving it.

    ``events`` keeps every event of the request in time order; ``main`` is the request's own line
    (the last event without an upstream, e.g. Rails' ``Completed GET ... 200``), ``calls`` the
    events that name an upstream. ``indexes`` are the events' positions in the input list, so a
    caller can point back at them (to pin one, say).
    """

    request_id: str | None
    events: list[Mapping[str, Any]] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    first_failure: bool = False
    is_gap = False  # lets templates tell requests from gaps without isinstance

    @property
    def start(self) -> datetime:
        ts: datetime = self.events[0]["ts"]
        return ts

    @property
    def end(self) -> datetime:
        ts: datetime = self.events[-1]["ts"]
        return ts

    @property
    def main(self) -> Mapping[str, Any] | None:
        own = [event for event in self.events if not event.get("upstream")]
        return own[-1] if own else None

    @property
    def calls(self) -> list[Mapping[str, Any]]:
        return [event for event in self.events if event.get("upstream")]

    @property
    def other_events(self) -> list[Mapping[str, Any]]:
        """Events without an upstream other than ``main`` (e.g. an exception logged mid-request)."""
        main = self.main
        return [e for e in self.events if not e.get("upstream") and e is not main]

    @property
    def failed(self) -> bool:
        return any(event_failed(event) for event in self.events)

    @property
    def failed_calls(self) -> list[Mapping[str, Any]]:
        return [event for event in self.calls if event_failed(event)]

    @property
    def sign_in(self) -> bool:
        return any(event_is_sign_in(event) for event in self.events)

    @property
    def method(self) -> str:
        return _text((self.main or self.events[0]).get("http_method"))

    @property
    def path(self) -> str:
        """The portal path: the main line's, else the route the upstream calls served."""
        if self.main is not None and self.main.get("path"):
            return _text(self.main.get("path"))
        for event in self.events:
            attrs = event.get("attrs")
            if isinstance(attrs, Mapping) and attrs.get("route"):
                return _text(attrs.get("route"))
        return _text(self.events[0].get("path"))

    @property
    def status_code(self) -> int | None:
        if self.main is not None:
            return _status_code(self.main)
        codes = [c for c in (_status_code(e) for e in self.events) if c is not None]
        return max(codes) if codes else None


@dataclass(frozen=True)
class Gap:
    """No event for the user between ``start`` and ``end`` (longer than the gap threshold)."""

    start: datetime
    end: datetime
    is_gap = True

    @property
    def minutes(self) -> int:
        return int((self.end - self.start).total_seconds() // 60)


@dataclass
class Timeline:
    """Requests and gaps in time order, plus the figures the panel's summary shows."""

    items: list[Request | Gap]
    event_count: int

    @property
    def requests(self) -> list[Request]:
        return [item for item in self.items if isinstance(item, Request)]

    @property
    def first_failure(self) -> Request | None:
        for request in self.requests:
            if request.first_failure:
                return request
        return None

    @property
    def failed_count(self) -> int:
        return sum(1 for request in self.requests if request.failed)

    @property
    def sign_in_count(self) -> int:
        return sum(1 for request in self.requests if request.sign_in)

    @property
    def gap_count(self) -> int:
        return sum(1 for item in self.items if isinstance(item, Gap))


def stitch(events: Sequence[Mapping[str, Any]], *, gap: timedelta = DEFAULT_GAP) -> Timeline:
    """Group ``events`` into requests by request id and mark failures, gaps and sign-ins.

    Steps:
    1. sort by time (stable, so equal times keep their input order);
    2. every event with a request id joins the request of that id, wherever it falls in time
       (upstream calls of one request may interleave with another request's lines); an event
       without a request id is a request of its own;
    3. requests are ordered by their first event; the first one that failed is marked;
    4. a ``Gap`` goes between two consecutive requests when the later one starts more than
       ``gap`` after the earlier one ended.
    """
    if gap <= timedelta(0):
        raise ValueError("gap must be positive")
    order = sorted(range(len(events)), key=lambda i: events[i]["ts"])
    by_id: dict[str, Request] = {}
    requests: list[Request] = []
    for index in order:
        event = events[index]
        request_id = _text(event.get("request_id")) or None
        request = by_id.get(request_id) if request_id else None
        if request is None:
            request = Request(request_id=request_id)
            requests.append(request)
            if request_id:
                by_id[request_id] = request
        request.events.append(event)
        request.indexes.append(index)
    requests.sort(key=lambda r: r.start)  # already in order by construction; kept explicit
    for request in requests:
        if request.failed:
            request.first_failure = True
            break
    items: list[Request | Gap] = []
    latest_end: datetime | None = None
    for request in requests:
        if latest_end is not None and request.start - latest_end > gap:
            items.append(Gap(start=latest_end, end=request.start))
        items.append(request)
        latest_end = request.end if latest_end is None else max(latest_end, request.end)
    return Timeline(items=items, event_count=len(events))
