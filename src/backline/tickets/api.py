"""API: tickets and every action on them. Thin: validate the shape, call a service, return a schema.

Permissions are decided by the services and selectors (``accounts.permissions``), never here, so the
API, the UI and background tasks obey the same rules. Every ticket is reached through
``selectors.ticket_for_user``; the affected user's identifier is masked in every representation and
only ``GET tickets/{number}/identifier`` returns it in the clear (audited).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import AwareDatetime, ConfigDict, field_validator

from backline.accounts.models import User
from backline.audit.masking import mask_identifier
from backline.calendars.models import Holiday
from backline.errors import NotFound
from backline.tickets import selectors, services
from backline.tickets.choices import (
    Area,
    Credential,
    EntryCriterion,
    Priority,
    RootCause,
    Status,
    Tier,
    Upstream,
)
from backline.tickets.models import Ticket, TimelineEntry, TimelineKind
from backline.tickets.sla import sla_remaining

router = Router(tags=["tickets"])

MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000
DEFAULT_PAGE_SIZE = 25

# Model fields that accept NULL; any other field sent as null means "empty".
_NULLABLE_CONTEXT = frozenset({"occurred_at", "occurred_until", "oracle_health_site"})


# ---------------------------------------------------------------------------------------------
# Input schemas. ``extra="forbid"``: a misspelt field is an error, not silently dropped.


def refuse_nul(value: Any) -> Any:
    """Raise on NUL characters anywhere in ``value``: PostgreSQL cannot store them (a 500 otherwise)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL (\\u0000) characters")
    if isinstance(value, list | tuple):
        for item in value:
            refuse_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_nul(key)
            refuse_nul(item)
    return value


class TextIn(Schema):
    """Input whose text fields may reach the database."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)


class StrictIn(TextIn):
    model_config = ConfigDict(extra="forbid")


class TicketContextIn(StrictIn):
    """The escalation template. Every field is optional here; the service says what is missing."""

    title: str | None = Field(None, max_length=200)
    description: str | None = None
    priority: Priority | None = None
    affected_user_id: str | None = Field(
        None, max_length=64, description="ICN, user UUID or EDIPI of the portal user (protected)."
    )
    area: Area | None = None
    suspected_upstream: Upstream | None = None
    occurred_at: AwareDatetime | None = Field(
        None, description="When it happened (or the start of a window). Must carry a zone."
    )
    occurred_until: AwareDatetime | None = Field(None, description="End of the window, if any.")
    device: str | None = Field(None, max_length=100)
    browser: str | None = Field(None, max_length=100)
    os: str | None = Field(None, max_length=100)
    credential: Credential | None = None
    oracle_health_site: bool | None = None
    url: str | None = Field(None, max_length=500)
    external_refs: list[str] | None = Field(None, description="Help-desk / service-desk numbers.")
    steps_to_reproduce: str | None = None
    expected_behaviour: str | None = None
    actual_behaviour: str | None = None
    troubleshooting_steps: list[str] | None = Field(
        None, description="Steps already performed (Tier 2 needs at least one)."
    )
    entry_criterion: EntryCriterion | None = Field(
        None, description="Which Tier 3 entry criterion applies (needed for Tier 3)."
    )


class TicketCreateIn(TicketContextIn):
    title: str = Field(..., max_length=200)
    description: str
    tier: Literal[1, 2, 3] | None = Field(
        None, description="Open at a lower tier than your own (default: your highest tier)."
    )


class EscalateIn(TicketContextIn):
    to_tier: Literal[2, 3]


class StatusIn(StrictIn):
    to: Status
    note: str = ""


class SendBackIn(StrictIn):
    question: str


class AnswerIn(StrictIn):
    answer: str


class CommentIn(StrictIn):
    body: str
    internal: bool = Field(False, description="Internal notes are visible to Tier 3 and up only.")


class ResolveIn(StrictIn):
    summary: str
    root_cause: RootCause
    workaround: str = ""
    code_change_needed: bool | None = None
    follow_up_url: str = Field("", max_length=500, description="The engineering issue URL.")


class ReasonIn(StrictIn):
    reason: str


class PriorityIn(StrictIn):
    priority: Priority
    reason: str = ""


class QueueIn(TextIn):
    tier: int | None = Field(None, description="1, 2 or 3.")
    mine: bool = Field(False, description="Assigned to me, or opened by me below Tier 3.")
    status: list[str] = Field(
        default_factory=list, description=f"Repeat or comma-separate: {', '.join(Status.values)}."
    )
    priority: list[str] = Field(default_factory=list, description=", ".join(Priority.values))
    assignee: str = Field("", description="A username, or 'none' for unassigned.")
    area: list[str] = Field(default_factory=list, description=", ".join(Area.values))
    upstream: list[str] = Field(default_factory=list, description=", ".join(Upstream.values))
    sla: list[str] = Field(default_factory=list, description="on_track, at_risk, breached, paused.")
    q: str = Field("", description="Words in the title, description or external references.")
    include_closed: bool = False
    sort: str = Field("due", description=", ".join(selectors.SORTS))
    # Bounded so the row offset always fits the database's integer.
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)


class IdentifierQuery(TextIn):
    reason: str = Field("", max_length=500, description="Why you need it (kept in the audit log).")


# ---------------------------------------------------------------------------------------------
# Output schemas.


class PersonOut(Schema):
    username: str
    name: str


class SlaOut(Schema):
    state: str
    state_label: str
    target: str | None = Field(description="acknowledgement or resolution; null before the clock")
    due_at: datetime | None
    risk_at: datetime | None
    remaining_seconds: int | None = Field(
        description="Business seconds to the current target; negative once breached."
    )
    ack_due_at: datetime | None
    resolve_due_at: datetime | None
    paused: bool
    started_at: datetime | None
    ack_target_minutes: int | None
    resolve_target_minutes: int | None
    calendar: str | None
    ack_breached: bool
    resolve_breached: bool


class TicketOut(Schema):
    number: str
    title: str
    description: str
    priority: str
    priority_label: str
    tier: int
    tier_label: str
    status: str
    status_label: str
    allowed_transitions: list[str]
    assignee: PersonOut | None
    created_by: PersonOut
    escalated_by: PersonOut | None
    acknowledged_by: PersonOut | None
    affected_user_id: str = Field(description="Masked (kind plus a stable hash).")
    area: str
    area_label: str
    suspected_upstream: str
    suspected_upstream_label: str
    occurred_at: datetime | None
    occurred_until: datetime | None
    device: str
    browser: str
    os: str
    credential: str
    credential_label: str
    oracle_health_site: bool | None
    url: str
    external_refs: list[str]
    steps_to_reproduce: str
    expected_behaviour: str
    actual_behaviour: str
    troubleshooting_steps: list[str]
    entry_criterion: str
    entry_criterion_label: str
    waiting_on: str
    resolution_summary: str
    root_cause: str
    root_cause_label: str
    workaround: str
    code_change_needed: bool | None
    follow_up_url: str
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla: SlaOut


class TicketPageOut(Schema):
    count: int
    page: int
    page_size: int
    next: int | None = Field(description="The next page number, or null on the last page.")
    previous: int | None
    items: list[TicketOut]


class TimelineEntryOut(Schema):
    id: int
    at: datetime
    actor: PersonOut | None = Field(description="null for the system (e.g. automatic closing).")
    kind: str
    kind_label: str
    field: str
    old_value: str
    new_value: str
    body: str
    internal: bool
    data: dict[str, Any]


class IdentifierOut(Schema):
    number: str
    affected_user_id: str
    masked: str


# ---------------------------------------------------------------------------------------------
# Representations.


def _person(user: User | None) -> dict[str, str] | None:
    return None if user is None else {"username": user.username, "name": user.name}


def _label(choices: type[Enum], value: object) -> str:
    if value in (None, ""):
        return ""
    try:
        return str(choices(value).label)  # type: ignore[attr-defined]
    except ValueError:
        return str(value)


def _sla(ticket: Ticket, now: datetime) -> dict[str, Any]:
    state = ticket.sla_state(now)
    remaining = sla_remaining(ticket, now=now)
    started = ticket.sla_started_at is not None
    return {
        "state": state.value,
        "state_label": state.label,
        "target": ticket.next_target() if started and ticket.is_open else None,
        "due_at": ticket.next_due_at,
        "risk_at": ticket.next_risk_at,
        "remaining_seconds": None if remaining is None else int(remaining.total_seconds()),
        "ack_due_at": ticket.ack_due_at,
        "resolve_due_at": ticket.resolve_due_at,
        "paused": ticket.is_paused,
        "started_at": ticket.sla_started_at,
        "ack_target_minutes": ticket.ack_target_minutes,
        "resolve_target_minutes": ticket.resolve_target_minutes,
        "calendar": ticket.sla_calendar.name if ticket.sla_calendar else None,
        "ack_breached": ticket.ack_breached,
        "resolve_breached": ticket.resolve_breached,
    }


def ticket_representation(ticket: Ticket, *, now: datetime) -> dict[str, Any]:
    """The API's view of a ticket. The affected user's identifier is always masked here."""
    return {
        "number": ticket.number,
        "title": ticket.title,
        "description": ticket.description,
        "priority": ticket.priority,
        "priority_label": _label(Priority, ticket.priority),
        "tier": ticket.tier,
        "tier_label": _label(Tier, ticket.tier),
        "status": ticket.status,
        "status_label": _label(Status, ticket.status),
        "allowed_transitions": ticket.allowed_transitions(),
        "assignee": _person(ticket.assignee),
        "created_by": _person(ticket.created_by),
        "escalated_by": _person(ticket.escalated_by),
        "acknowledged_by": _person(ticket.acknowledged_by),
        "affected_user_id": mask_identifier(ticket.affected_user_id),
        "area": ticket.area,
        "area_label": _label(Area, ticket.area),
        "suspected_upstream": ticket.suspected_upstream,
        "suspected_upstream_label": _label(Upstream, ticket.suspected_upstream),
        "occurred_at": ticket.occurred_at,
        "occurred_until": ticket.occurred_until,
        "device": ticket.device,
        "browser": ticket.browser,
        "os": ticket.os,
        "credential": ticket.credential,
        "credential_label": _label(Credential, ticket.credential),
        "oracle_health_site": ticket.oracle_health_site,
        "url": ticket.url,
        "external_refs": list(ticket.external_refs or []),
        "steps_to_reproduce": ticket.steps_to_reproduce,
        "expected_behaviour": ticket.expected_behaviour,
        "actual_behaviour": ticket.actual_behaviour,
        "troubleshooting_steps": list(ticket.troubleshooting_steps or []),
        "entry_criterion": ticket.entry_criterion,
        "entry_criterion_label": _label(EntryCriterion, ticket.entry_criterion),
        "waiting_on": ticket.waiting_on,
        "resolution_summary": ticket.resolution_summary,
        "root_cause": ticket.root_cause,
        "root_cause_label": _label(RootCause, ticket.root_cause),
        "workaround": ticket.workaround,
        "code_change_needed": ticket.code_change_needed,
        "follow_up_url": ticket.follow_up_url,
        "created_at": ticket.created_at,
        "updated_at": ticket.updated_at,
        "acknowledged_at": ticket.acknowledged_at,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "sla": _sla(ticket, now),
    }


def _entry(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "at": entry.at,
        "actor": _person(entry.actor),
        "kind": entry.kind,
        "kind_label": _label(TimelineKind, entry.kind),
        "field": entry.field,
        "old_value": entry.old_value,
        "new_value": entry.new_value,
        "body": entry.body,
        "internal": entry.internal,
        "data": entry.data or {},
    }


# ---------------------------------------------------------------------------------------------
# Helpers.


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _ticket(request: HttpRequest, number: str) -> Ticket:
    if "\x00" in number:
        raise NotFound("No such ticket.")  # never a ticket number, and PostgreSQL refuses it
    return selectors.ticket_for_user(user=_user(request), number=number)


def _answer(request: HttpRequest, number: str) -> dict[str, Any]:
    # Read the ticket again after a service ran: the service's instance may lack the related rows
    # the representation shows, and this is the state every other reader will see.
    return ticket_representation(_ticket(request, number), now=timezone.now())


def _context(payload: TicketContextIn, *, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields the caller actually sent, shaped for the services (null -> empty text)."""
    fields = payload.model_dump(exclude_unset=True, exclude=set(skip))
    for name, value in fields.items():
        if value is None and name not in _NULLABLE_CONTEXT:
            fields[name] = [] if name in ("external_refs", "troubleshooting_steps") else ""
        elif isinstance(value, Enum):
            fields[name] = value.value
    return fields


def _split(values: list[str]) -> tuple[str, ...]:
    """Accept ``?status=new&status=acknowledged`` as well as ``?status=new,acknowledged``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _queue_queryset(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    # One query for the page however many rows: every person shown is joined, and the holidays
    # of the (few) calendars behind the remaining-time figure arrive in one extra query.
    return queryset.select_related(
        "assignee", "created_by", "escalated_by", "acknowledged_by", "sla_calendar"
    ).prefetch_related(Prefetch("sla_calendar__holidays", queryset=Holiday.objects.all()))


# ---------------------------------------------------------------------------------------------
# Endpoints.


@router.get("", response=TicketPageOut, summary="The queue: filter, sort and page through tickets")
def list_tickets(request: HttpRequest, filters: Query[QueueIn]) -> dict[str, Any]:
    now = timezone.now()
    queue = selectors.QueueFilters(
        tier=filters.tier,
        mine=filters.mine,
        status=_split(filters.status),
        priority=_split(filters.priority),
        assignee=filters.assignee.strip(),
        area=_split(filters.area),
        upstream=_split(filters.upstream),
        sla=_split(filters.sla),
        text=filters.q.strip(),
        include_closed=filters.include_closed,
        sort=filters.sort,
    )
    queryset = selectors.tickets_for_queue(user=_user(request), filters=queue, now=now)
    count = queryset.count()
    start = (filters.page - 1) * filters.page_size
    rows = list(_queue_queryset(queryset)[start : start + filters.page_size])
    return {
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
        "next": filters.page + 1 if start + filters.page_size < count else None,
        "previous": filters.page - 1 if filters.page > 1 else None,
        "items": [ticket_representation(ticket, now=now) for ticket in rows],
    }


@router.post("", response={201: TicketOut}, summary="Open a ticket at your tier (or a lower one)")
def create_ticket(request: HttpRequest, payload: TicketCreateIn) -> HttpStatus[dict[str, Any]]:
    ticket = services.ticket_create(
        actor=_user(request), fields=_context(payload, skip=frozenset({"tier"})), tier=payload.tier
    )
    return HttpStatus(201, _answer(request, ticket.number))


@router.get("/{number}", response=TicketOut, summary="One ticket, with its SLA clock")
def get_ticket(request: HttpRequest, number: str) -> dict[str, Any]:
    return ticket_representation(_ticket(request, number), now=timezone.now())


@router.post(
    "/{number}/escalate",
    response=TicketOut,
    summary="Escalate to Tier 2 or Tier 3 with the context the next tier needs",
)
def escalate(request: HttpRequest, number: str, payload: EscalateIn) -> dict[str, Any]:
    services.ticket_escalate(
        ticket=_ticket(request, number),
        actor=_user(request),
        to_tier=payload.to_tier,
        context=_context(payload, skip=frozenset({"to_tier"})),
    )
    return _answer(request, number)


@router.post(
    "/{number}/acknowledge",
    response=TicketOut,
    summary="Take ownership of a New Tier 3 ticket (exactly one engineer wins)",
)
def acknowledge(request: HttpRequest, number: str) -> dict[str, Any]:
    services.ticket_acknowledge(ticket=_ticket(request, number), actor=_user(request))
    return _answer(request, number)


@router.post(
    "/{number}/status", response=TicketOut, summary="Move a Tier 3 ticket to another status"
)
def change_status(request: HttpRequest, number: str, payload: StatusIn) -> dict[str, Any]:
    services.ticket_change_status(
        ticket=_ticket(request, number),
        actor=_user(request),
        to=payload.to.value,
        note=payload.note,
    )
    return _answer(request, number)


@router.post(
    "/{number}/send-back",
    response=TicketOut,
    summary="Ask Tier 2 a question (Waiting on requester; the SLA clock pauses)",
)
def send_back(request: HttpRequest, number: str, payload: SendBackIn) -> dict[str, Any]:
    services.ticket_send_back(
        ticket=_ticket(request, number), actor=_user(request), question=payload.question
    )
    return _answer(request, number)


@router.post(
    "/{number}/answer",
    response=TicketOut,
    summary="Answer Tier 3's question (back to Tier 3; the clock resumes, never restarts)",
)
def answer(request: HttpRequest, number: str, payload: AnswerIn) -> dict[str, Any]:
    services.ticket_answer(
        ticket=_ticket(request, number), actor=_user(request), answer=payload.answer
    )
    return _answer(request, number)


@router.post(
    "/{number}/comments",
    response={201: TimelineEntryOut},
    summary="Comment: shared with the lower tiers, or internal (Tier 3 and up)",
)
def comment(request: HttpRequest, number: str, payload: CommentIn) -> HttpStatus[dict[str, Any]]:
    entry = services.ticket_comment(
        ticket=_ticket(request, number),
        actor=_user(request),
        body=payload.body,
        internal=payload.internal,
    )
    return HttpStatus(201, _entry(entry))


@router.get(
    "/{number}/timeline",
    response=list[TimelineEntryOut],
    summary="The ticket's history (internal notes only for Tier 3 and up)",
)
def timeline(request: HttpRequest, number: str) -> list[dict[str, Any]]:
    user = _user(request)
    ticket = _ticket(request, number)
    return [_entry(entry) for entry in selectors.timeline_for_user(user=user, ticket=ticket)]


@router.post(
    "/{number}/resolve", response=TicketOut, summary="Resolve with a summary and root cause"
)
def resolve(request: HttpRequest, number: str, payload: ResolveIn) -> dict[str, Any]:
    services.ticket_resolve(
        ticket=_ticket(request, number),
        actor=_user(request),
        summary=payload.summary,
        root_cause=payload.root_cause.value,
        workaround=payload.workaround,
        code_change_needed=payload.code_change_needed,
        follow_up_url=payload.follow_up_url,
    )
    return _answer(request, number)


@router.post("/{number}/reopen", response=TicketOut, summary="Reopen a Resolved ticket")
def reopen(request: HttpRequest, number: str, payload: ReasonIn) -> dict[str, Any]:
    services.ticket_reopen(
        ticket=_ticket(request, number), actor=_user(request), reason=payload.reason
    )
    return _answer(request, number)


@router.post("/{number}/cancel", response=TicketOut, summary="Cancel an open ticket")
def cancel(request: HttpRequest, number: str, payload: ReasonIn) -> dict[str, Any]:
    services.ticket_cancel(
        ticket=_ticket(request, number), actor=_user(request), reason=payload.reason
    )
    return _answer(request, number)


@router.post(
    "/{number}/priority",
    response=TicketOut,
    summary="Change priority; SLA targets are re-evaluated from the original start",
)
def set_priority(request: HttpRequest, number: str, payload: PriorityIn) -> dict[str, Any]:
    services.ticket_set_priority(
        ticket=_ticket(request, number),
        actor=_user(request),
        priority=payload.priority.value,
        reason=payload.reason,
    )
    return _answer(request, number)


@router.get(
    "/{number}/identifier",
    response=IdentifierOut,
    summary="The affected user's identifier unmasked (engineers and admins; audited)",
)
def identifier(request: HttpRequest, number: str, params: Query[IdentifierQuery]) -> dict[str, str]:
    ticket = _ticket(request, number)
    value = selectors.ticket_identifier_for_user(
        user=_user(request), ticket=ticket, reason=params.reason.strip()
    )
    return {"number": ticket.number, "affected_user_id": value, "masked": mask_identifier(value)}
