"""HTML views of the workbench: the log explorer, a ticket's Investigate panel, pins, the audit page.

Thin: the checkpoint (``services.log_access``), the audited reads and the masking live in
``services``; a view turns the URL into arguments, the answer into a page, and errors into
messages on the page (a query syntax error is shown under the query with a caret).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from backline.accounts.models import User
from backline.accounts.permissions import Action, can
from backline.audit.services import audit_record
from backline.errors import DomainError, InvalidInput
from backline.logs.query import QuerySyntaxError, TimeRangeError, parse_range, parse_time
from backline.logs.query.parser import ATTRIBUTE_NAME_RE
from backline.logs.source import SourceError, iso_utc
from backline.logs.store import LogStoreError
from backline.web.shortcuts import error_message, render_domain_error, staff_view, viewer_zone
from backline.workbench import charts, selectors, services

RELATIVE_RANGES: tuple[tuple[str, str], ...] = (
    ("now-15m", "Past 15 minutes"),
    ("now-1h", "Past hour"),
    ("now-4h", "Past 4 hours"),
    ("now-1d", "Past day"),
    ("now-7d", "Past 7 days"),
)
COLUMN_CHOICES: tuple[tuple[str, str], ...] = (
    ("ts", "Time"),
    ("status", "Status"),
    ("service", "Service"),
    ("host", "Host"),
    ("http_method", "Method"),
    ("path", "Path"),
    ("status_code", "HTTP status"),
    ("duration_ms", "Duration (ms)"),
    ("upstream", "Upstream"),
    ("facility", "Facility"),
    ("error_code", "Error code"),
    ("version", "Version"),
    ("user_id", "User"),
    ("request_id", "Request id"),
    ("message", "Message"),
)
_COLUMN_LABELS = dict(COLUMN_CHOICES)
TAIL_SECONDS = 5
MAX_WIDEN_HOURS = 7 * 24
AUDIT_PAGE_SIZE = 50
_LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # staff_view guarantees a signed-in person
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _with(params: QueryDict, **changes: Any) -> str:
    """``?...`` with some parameters replaced or (None/"") removed."""
    copy = params.copy()
    for key, value in changes.items():
        if value in (None, ""):
            copy.pop(key, None)
        else:
            copy[key] = str(value)
    encoded = copy.urlencode()
    return f"?{encoded}" if encoded else "?"


def parse_columns(values: list[str]) -> list[str]:
    """The ``cols`` parameter (repeated or comma-separated): known columns and ``@attribute``
    paths, in order, without repeats; the default set when nothing valid is given."""
    chosen: list[str] = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            known = name in _COLUMN_LABELS
            attribute = name.startswith("@") and ATTRIBUTE_NAME_RE.fullmatch(name[1:]) is not None
            if (known or attribute) and name not in chosen:
                chosen.append(name)
    return chosen or list(services.DEFAULT_COLUMNS)


def _local_to_iso(text: str, request: HttpRequest) -> str:
    """A ``datetime-local`` value read in the viewer's zone, as a UTC ISO instant."""
    try:
        naive = datetime.strptime(text.strip(), _LOCAL_INPUT)
    except ValueError:
        raise TimeRangeError(f"{text!r} is not a date and time (use the picker).") from None
    return iso_utc(naive.replace(tzinfo=viewer_zone(request)))


def _local_input(moment: datetime) -> str:
    return timezone.localtime(moment).strftime(_LOCAL_INPUT)


# ---- the explorer -----------------------------------------------------------------------------


def _facet_links(params: QueryDict, query: str, field: str, value: str) -> tuple[str, str]:
    term = f"{field}:{services.quote_value(value)}"
    base = query.strip()
    include = f"{base} {term}".strip()
    exclude = f"{base} -{term}".strip()
    return _with(params, q=include, cursor=None), _with(params, q=exclude, cursor=None)


def _explorer_context(request: HttpRequest) -> tuple[dict[str, Any], int]:
    user = _user(request)
    params = request.GET
    query = params.get("q", "")
    from_text = params.get("from", "now-15m") or "now-15m"
    to_text = params.get("to", "now") or "now"
    columns = parse_columns(params.getlist("cols"))
    cursor = params.get("cursor") or None
    ticket_number = params.get("ticket", "").strip()
    scope_user = params.get("scope") == "user" and bool(ticket_number)
    reason = params.get("reason", "")
    live = params.get("live") == "1"
    now = timezone.now()
    context: dict[str, Any] = {
        "q": query,
        "from_text": from_text,
        "to_text": to_text,
        "columns": [(c, _COLUMN_LABELS.get(c, c)) for c in columns],
        "column_choices": COLUMN_CHOICES,
        "chosen_columns": columns,
        "relative_ranges": RELATIVE_RANGES,
        "relative": from_text in dict(RELATIVE_RANGES) and to_text == "now",
        "ticket_number": ticket_number,
        "scope_user": scope_user,
        "reason": reason,
        "may_give_reason": can(user, Action.LOGS_UNMASK_JUSTIFIED),
        "live": live,
        "tail_seconds": TAIL_SECONDS,
        "errors": {},
    }
    status = 200
    try:
        access = services.log_access(user=user, ticket_number=ticket_number, reason=reason)
    except InvalidInput as exc:
        context["errors"]["reason"] = " ".join(exc.fields.get("reason", [exc.message]))
        access = services.log_access(user=user, ticket_number=ticket_number)
        status = 422
    context["access"] = access
    try:
        window = parse_range(from_text, to_text, now)
    except TimeRangeError as exc:
        context["errors"]["window"] = str(exc)
        return context, 400
    context["start"], context["end"] = window.start, window.end
    context["from_local"], context["to_local"] = (
        _local_input(window.start),
        _local_input(window.end),
    )
    context["live"] = live and context["relative"]
    step = charts.bucket_size(window.start, window.end)
    try:
        result = services.explorer_search(
            access=access,
            query=query,
            start=window.start,
            end=window.end,
            cursor=cursor,
            scope_user=scope_user,
            step=step,
            aggregates=params.get("partial") != "results",
        )
    except QuerySyntaxError as exc:
        context["syntax_error"] = exc
        context["caret_pad"] = " " * min(exc.position, len(query))
        return context, 400
    except InvalidInput as exc:
        context["errors"]["window"] = (
            exc.message + " " + " ".join(m for messages_ in exc.fields.values() for m in messages_)
        )
        return context, 400
    except ValueError as exc:  # a cursor from another search
        context["errors"]["cursor"] = str(exc)
        return context, 400
    except (LogStoreError, SourceError) as exc:
        context["errors"]["source"] = f"The log store did not answer: {exc}"
        return context, 503
    context["result"] = result
    context["rows"] = [(event, [(c, event.value(c)) for c in columns]) for event in result.events]
    if result.step is not None:
        context["chart"] = charts.histogram(
            ((b.start, b.group, b.count) for b in result.buckets),
            start=window.start,
            end=window.end,
            step=result.step,
            zone=viewer_zone(request),
        )
    facets = []
    for name, label in services.FACET_FIELDS:
        rows = []
        for row in result.facets.get(name, []):
            include, exclude = _facet_links(params, query, name, row.value)
            rows.append((row, include, exclude))
        facets.append((label, name, rows))
    context["facets"] = facets
    context["next_url"] = _with(params, cursor=result.next_cursor) if result.next_cursor else ""
    context["first_url"] = _with(params, cursor=None) if cursor else ""
    context["live_on_url"] = _with(params, live="1", cursor=None)
    context["live_off_url"] = _with(params, live=None)
    context["tail_url"] = _with(params, partial="results", cursor=None)
    context["export_csv"] = reverse("web:workbench:export") + _with(params, format="csv")
    context["export_json"] = reverse("web:workbench:export") + _with(params, format="json")
    return context, status


@staff_view
@require_GET
def explorer(request: HttpRequest) -> HttpResponse:
    """The log explorer: query, time picker, histogram, facets, results; the URL is the state."""
    user = _user(request)
    if not can(user, Action.LOGS_SEARCH):
        return render_domain_error(
            request, PermissionDenied("Your roles do not include searching logs.")
        )
    if request.GET.get("from") == "custom":
        # The picker's absolute times are in the viewer's zone; the URL keeps UTC instants so a
        # shared link shows the same window to someone in another zone.
        params = request.GET.copy()
        try:
            params["from"] = _local_to_iso(params.get("from_local", ""), request)
            params["to"] = _local_to_iso(params.get("to_local", ""), request)
        except TimeRangeError as exc:
            messages.error(request, str(exc))
            params["from"], params["to"] = "now-15m", "now"
        for key in ("from_local", "to_local", "cursor"):
            params.pop(key, None)
        return redirect(reverse("web:workbench:explorer") + "?" + params.urlencode())
    try:
        context, status = _explorer_context(request)
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    partial = request.GET.get("partial") == "results" and _is_htmx(request)
    template = "workbench/explorer.html#results" if partial else "workbench/explorer.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@staff_view
@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """The current results as CSV or JSON (masked like the page); audited."""
    params = request.GET
    ticket_number = params.get("ticket", "").strip()
    try:
        access = services.log_access(
            user=_user(request), ticket_number=ticket_number, reason=params.get("reason", "")
        )
        window = parse_range(
            params.get("from", "now-15m") or "now-15m",
            params.get("to", "now") or "now",
            timezone.now(),
        )
        fmt = params.get("format", "csv")
        text, content_type = services.logs_export(
            access=access,
            query=params.get("q", ""),
            start=window.start,
            end=window.end,
            columns=parse_columns(params.getlist("cols")),
            fmt=fmt,
            scope_user=params.get("scope") == "user" and bool(ticket_number),
        )
    except (DomainError, PermissionDenied) as exc:
        return render_domain_error(request, exc)
    except (QuerySyntaxError, TimeRangeError, ValueError) as exc:
        return render_domain_error(request, InvalidInput(str(exc)))
    response = HttpResponse(text, content_type=f"{content_type}; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="backline-logs-{stamp}.{fmt}"'
    return response


# ---- the Investigate panel --------------------------------------------------------------------


def _hours(request: HttpRequest, name: str, default: int) -> int:
    try:
        value = int(request.GET.get(name, default))
    except ValueError:
        return default
    return min(max(value, 1), MAX_WIDEN_HOURS)


def investigate_url(number: str, *, before: int = 2, after: int = 1) -> str:
    return (
        reverse("web:workbench:investigate", args=[number])
        + "?"
        + urlencode({"before": before, "after": after})
    )


@staff_view
@require_GET
def investigate(request: HttpRequest, number: str) -> HttpResponse:
    """The ticket's user's requests around when it happened (panel for htmx, else a page)."""
    user = _user(request)
    before, after = _hours(request, "before", 2), _hours(request, "after", 1)
    try:
        access = services.log_access(user=user, ticket_number=number)
        assert access.ticket is not None
        start, end = services.ticket_window(
            access.ticket, before=timedelta(hours=before), after=timedelta(hours=after)
        )
        look = services.ticket_timeline(access=access, start=start, end=end)
    except (DomainError, PermissionDenied) as exc:
        if _is_htmx(request):
            return render(
                request,
                "workbench/includes/investigate_error.html",
                {"message": error_message(exc)},
                status=403 if isinstance(exc, PermissionDenied) else exc.status_code,
            )
        return render_domain_error(request, exc)
    except (LogStoreError, SourceError) as exc:
        return render_domain_error(request, DomainError(f"The log store did not answer: {exc}"))
    ticket = access.ticket
    evidence = [(pin, services.evidence_events(pin, look.access)) for pin in look.evidence]
    context = {
        "ticket": ticket,
        "look": look,
        "access": look.access,
        "evidence": evidence,
        "before": before,
        "after": after,
        "widen_url": investigate_url(
            ticket.number,
            before=min(before * 2, MAX_WIDEN_HOURS),
            after=min(after * 2, MAX_WIDEN_HOURS),
        ),
        "can_widen": before < MAX_WIDEN_HOURS or after < MAX_WIDEN_HOURS,
        "explorer_url": reverse("web:workbench:explorer")
        + "?"
        + urlencode(
            {"ticket": ticket.number, "scope": "user", "from": iso_utc(start), "to": iso_utc(end)}
        ),
        "window_from": iso_utc(start),
        "window_to": iso_utc(end),
        "may_pin": can(user, Action.LOGS_SEARCH),
    }
    template = (
        "workbench/includes/investigate_panel.html"
        if _is_htmx(request)
        else "workbench/investigate.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _ticket_page(number: str) -> str:
    return reverse("web:tickets:detail", args=[number])


@staff_view
@require_POST
def pin(request: HttpRequest, number: str) -> HttpResponse:
    """Pin one request (or one event of it) of the ticket's user as evidence."""
    user = _user(request)
    try:
        access = services.log_access(user=user, ticket_number=number)
        start = parse_time(request.POST.get("from", ""), timezone.now())
        end = parse_time(request.POST.get("to", ""), timezone.now())
        event_ts = request.POST.get("event_ts", "").strip()
        evidence = services.evidence_pin(
            access=access,
            request_id=request.POST.get("request_id", ""),
            start=start,
            end=end,
            event_ts=parse_time(event_ts, timezone.now()) if event_ts else None,
            note=request.POST.get("note", ""),
        )
    except TimeRangeError as exc:
        return _pin_answer(request, number, error=str(exc), status=400)
    except (DomainError, PermissionDenied) as exc:
        status = 403 if isinstance(exc, PermissionDenied) else exc.status_code
        return _pin_answer(request, number, error=error_message(exc), status=status)
    except (LogStoreError, SourceError) as exc:
        return _pin_answer(
            request, number, error=f"The log store did not answer: {exc}", status=503
        )
    return _pin_answer(request, number, done=evidence.summary)


def _pin_answer(
    request: HttpRequest, number: str, *, done: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    if _is_htmx(request):
        return render(
            request,
            "workbench/includes/pin_result.html",
            {"done": done, "error": error},
            status=status,
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(_ticket_page(number))


@staff_view
@require_POST
def unpin(request: HttpRequest, number: str, evidence_id: int) -> HttpResponse:
    """Take a pin off the ticket (it stays recorded as removed)."""
    user = _user(request)
    try:
        access = services.log_access(user=user, ticket_number=number)
        assert access.ticket is not None
        services.evidence_unpin(user=user, ticket=access.ticket, evidence_id=evidence_id)
    except (DomainError, PermissionDenied) as exc:
        messages.error(request, error_message(exc))
        return redirect(_ticket_page(number))
    messages.success(request, "Evidence unpinned.")
    return redirect(_ticket_page(number))


# ---- the audit page ---------------------------------------------------------------------------


def _audit_filters(request: HttpRequest) -> tuple[selectors.AuditFilters, dict[str, str]]:
    params = request.GET
    errors: dict[str, str] = {}
    bounds: dict[str, datetime | None] = {"start": None, "end": None}
    for key, name in (("from", "start"), ("to", "end")):
        text = params.get(key, "").strip()
        if not text:
            continue
        try:
            naive = datetime.strptime(text, _LOCAL_INPUT)
        except ValueError:
            errors[key] = "Use the date and time picker (YYYY-MM-DDTHH:MM)."
            continue
        bounds[name] = naive.replace(tzinfo=viewer_zone(request))
    filters = selectors.AuditFilters(
        actor=params.get("actor", "").strip(),
        subject=params.get("subject", ""),
        action=params.get("action", "").strip(),
        ticket=params.get("ticket", "").strip(),
        start=bounds["start"],
        end=bounds["end"],
    )
    return filters, errors


@staff_view
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    """Admins: who looked at what, filtered by person, patient identifier, action and time."""
    user = _user(request)
    if not can(user, Action.AUDIT_VIEW):
        return render_domain_error(request, PermissionDenied("Only admins may read the audit log."))
    filters, errors = _audit_filters(request)
    if filters.subject.strip():
        # Searching by patient is itself a look at who saw that patient: recorded too.
        audit_record(
            actor=user,
            action="audit.search",
            subject=services.identifier_key(filters.subject)[1],
            detail={"actor": filters.actor, "action": filters.action, "ticket": filters.ticket},
        )
    rows = selectors.audit_events(user=user, filters=filters)
    page = Paginator(rows, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "errors": errors,
        "actions": selectors.audit_actions(),
        "people": User.objects.order_by("username").values_list("username", flat=True),
        "from_value": request.GET.get("from", ""),
        "to_value": request.GET.get("to", ""),
        "elided_pages": page.paginator.get_elided_page_range(
            page.number, on_each_side=2, on_ends=1
        ),
    }
    return render(request, "workbench/audit.html", context, status=422 if errors else 200)
