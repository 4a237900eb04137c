"""API: ``/api/v1/workbench/``: a ticket's timeline, pinned evidence, the audit log, exports. Thin.

The same checkpoint, masking and audit rows as the pages (``services``). A query syntax error is a
400 with ``position`` and ``expected``; a bad time is a 400 naming the window.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from backline.accounts.models import User
from backline.api import error_response
from backline.logs.query import QuerySyntaxError, TimeRangeError, parse_range, parse_time
from backline.logs.source import SourceError, iso_utc
from backline.logs.store import LogStoreError
from backline.workbench import selectors, services
from backline.workbench.models import PinnedEvidence
from backline.workbench.timeline import Gap

router = Router(tags=["workbench"])
MAX_HOURS = 7 * 24


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _source_errors(exc: Exception, request: HttpRequest) -> HttpResponse:
    if isinstance(exc, QuerySyntaxError):
        return error_response(
            request,
            400,
            f"Query syntax error: {exc}",
            {"query": [str(exc)]},
            position=exc.position,
            expected=exc.expected,
        )
    if isinstance(exc, TimeRangeError):
        return error_response(request, 400, str(exc), {"window": [str(exc)]})
    if isinstance(exc, LogStoreError | SourceError):
        return error_response(request, 503, f"The log store did not answer: {exc}")
    return error_response(request, 400, str(exc))


def _request_json(request: Any) -> dict[str, Any]:
    return {
        "request_id": request.request_id,
        "start": iso_utc(request.start),
        "end": iso_utc(request.end),
        "method": request.method,
        "path": request.path,
        "status_code": request.status_code,
        "failed": request.failed,
        "first_failure": request.first_failure,
        "sign_in": request.sign_in,
        "calls": [_event_json(e) for e in request.calls],
        "events": [_event_json(e) for e in request.events],
    }


def _event_json(event: Any) -> dict[str, Any]:
    data = dict(event)
    if isinstance(data.get("ts"), datetime):
        data["ts"] = iso_utc(data["ts"])
    return data


@router.get("/tickets/{number}/timeline", summary="The ticket's user's requests around the time")
def ticket_timeline(request: HttpRequest, number: str, before: int = 2, after: int = 1) -> Any:
    """Events of the ticket's affected user from ``before`` hours before ``occurred_at`` to
    ``after`` hours after, stitched by request id. Unmasked only for Tier 3 and up working the
    ticket (``banner`` says so); audited as ``workbench.timeline``."""
    if not (1 <= before <= MAX_HOURS and 1 <= after <= MAX_HOURS):
        raise HttpError(400, f"before and after are hours from 1 to {MAX_HOURS}")
    access = services.log_access(user=_user(request), ticket_number=number)
    assert access.ticket is not None
    start, end = services.ticket_window(
        access.ticket, before=timedelta(hours=before), after=timedelta(hours=after)
    )
    try:
        look = services.ticket_timeline(access=access, start=start, end=end)
    except (LogStoreError, SourceError) as exc:
        return _source_errors(exc, request)
    return {
        "ticket": access.ticket.number,
        "from": iso_utc(start),
        "to": iso_utc(end),
        "unmasked": look.unmasked,
        "banner": look.access.banner,
        "events": len(look.events),
        "truncated": look.truncated,
        "first_failure": (
            iso_utc(look.timeline.first_failure.start) if look.timeline.first_failure else None
        ),
        "items": [
            {"gap": {"from": iso_utc(i.start), "to": iso_utc(i.end), "minutes": i.minutes}}
            if isinstance(i, Gap)
            else {"request": _request_json(i)}
            for i in look.timeline.items
        ],
    }


class PinBody(Schema):
    request_id: str
    window_from: str
    window_to: str
    event_ts: str = ""
    note: str = ""


def _evidence_json(pin: PinnedEvidence, events: list[services.ShownEvent]) -> dict[str, Any]:
    return {
        "id": pin.pk,
        "ticket": pin.ticket.number,
        "summary": pin.summary,
        "note": pin.note,
        "request_id": pin.request_id,
        "pinned_by": pin.pinned_by.username,
        "pinned_at": iso_utc(pin.pinned_at),
        "window_from": iso_utc(pin.window_start),
        "window_to": iso_utc(pin.window_end),
        "query": pin.query if any(e.unmasked for e in events) else "",
        "events": [e.data for e in events],
    }


@router.get("/tickets/{number}/evidence", summary="Evidence pinned to a ticket")
def evidence_list(request: HttpRequest, number: str) -> Any:
    """Frozen events shown through the live masking rules; an unmasked view is audited."""
    access = services.log_access(user=_user(request), ticket_number=number)
    return [_evidence_json(pin, events) for pin, events in services.evidence_view(access=access)]


@router.post(
    "/tickets/{number}/evidence", summary="Pin a request of the ticket's user", response={201: Any}
)
def evidence_pin(request: HttpRequest, number: str, payload: PinBody) -> Any:
    """Fetch the request's events of the ticket's user in the window again and freeze them."""
    access = services.log_access(user=_user(request), ticket_number=number)
    now = timezone.now()
    try:
        start = parse_time(payload.window_from, now)
        end = parse_time(payload.window_to, now)
        event_ts = parse_time(payload.event_ts, now) if payload.event_ts.strip() else None
        pin = services.evidence_pin(
            access=access,
            request_id=payload.request_id,
            start=start,
            end=end,
            event_ts=event_ts,
            note=payload.note,
        )
    except (TimeRangeError, LogStoreError, SourceError) as exc:
        return _source_errors(exc, request)
    return Status(201, _evidence_json(pin, services.evidence_events(pin, access)))


@router.delete(
    "/tickets/{number}/evidence/{evidence_id}", summary="Unpin evidence", response={204: None}
)
def evidence_unpin(request: HttpRequest, number: str, evidence_id: int) -> Any:
    access = services.log_access(user=_user(request), ticket_number=number)
    assert access.ticket is not None
    services.evidence_unpin(user=_user(request), ticket=access.ticket, evidence_id=evidence_id)
    return Status(204, None)


class AuditIn(Schema):
    actor: str = ""
    subject: str = ""
    action: str = ""
    ticket: str = ""
    from_time: datetime | None = None
    to_time: datetime | None = None
    page: int = 1


@router.get("/audit", summary="Search the audit log (admins)")
def audit(request: HttpRequest, params: Query[AuditIn]) -> Any:
    """Rows newest first, 50 a page. ``subject`` is a patient identifier, matched by its keyed
    hash. ``from_time``/``to_time`` are ISO-8601 instants with a zone."""
    for name, value in (("from_time", params.from_time), ("to_time", params.to_time)):
        if value is not None and value.tzinfo is None:
            raise HttpError(400, f"{name} needs a zone (Z or an offset)")
    filters = selectors.AuditFilters(
        actor=params.actor,
        subject=params.subject,
        action=params.action,
        ticket=params.ticket,
        start=params.from_time,
        end=params.to_time,
    )
    rows = selectors.audit_events(user=_user(request), filters=filters)
    page = Paginator(rows, 50).get_page(max(1, min(params.page, 100_000)))
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "rows": [
            {
                "id": row.pk,
                "at": iso_utc(row.at),
                "actor": row.actor.username if row.actor else None,
                "action": row.action,
                "ticket": row.ticket_number,
                "reason": row.reason,
                "query": row.query,
                "result_count": row.result_count,
                "unmasked": row.unmasked,
                "detail": row.detail,
            }
            for row in page
        ],
    }


class ExportIn(Schema):
    q: str = ""
    from_time: str = "now-15m"
    to_time: str = "now"
    format: Literal["csv", "json"] = "csv"
    cols: str = ",".join(services.DEFAULT_COLUMNS)
    ticket: str = ""
    scope: Literal["", "user"] = ""
    reason: str = ""


@router.get("/logs/export", summary="Export matching events as CSV or JSON")
def export(request: HttpRequest, params: Query[ExportIn]) -> Any:
    """Masked like the explorer (unmasked only for a ticket about the user, or an admin's
    ``reason``); at most 5,000 events; audited as ``workbench.export``."""
    from backline.workbench.views import parse_columns

    access = services.log_access(
        user=_user(request), ticket_number=params.ticket, reason=params.reason
    )
    try:
        window = parse_range(params.from_time, params.to_time, timezone.now())
        text, content_type = services.logs_export(
            access=access,
            query=params.q,
            start=window.start,
            end=window.end,
            columns=parse_columns([params.cols]),
            fmt=params.format,
            scope_user=params.scope == "user" and bool(params.ticket),
        )
    except (QuerySyntaxError, TimeRangeError, LogStoreError, SourceError) as exc:
        return _source_errors(exc, request)
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="backline-logs.{params.format}"'
    return response
