"""The workbench's checkpoint and audited reads: who sees which log events, masked or not, and why.

Every look at logs from the workbench goes through here:

1. ``log_access`` decides, once per request, whether the viewer may see logs at all (Tier 1 may
   not), and whether identifiers may be unmasked: for Tier 3 and up working a Tier 3 ticket about
   that user (only that user's events are unmasked), or for an admin with a typed justification
   (everything is unmasked). Everyone else sees every identifier as a stable token.
2. A read (``explorer_search``, ``ticket_timeline``, ``logs_export``, ``evidence_pin``) asks the
   log source, masks what the viewer may not see, then writes its audit row in a transaction
   before anything is returned. The source is outside the database, so the read comes first; if
   the audit write fails the exception propagates and nothing is shown.

Masking uses ``audit.redact.Redactor`` keyed with ``SECRET_KEY``: the same identifier always
becomes the same token, so patterns stay visible.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, can, require
from backline.audit.masking import log_redactor
from backline.audit.redact import UUID, Redactor, canonical, kind_for_key
from backline.audit.services import audit_record
from backline.errors import InvalidInput, NotFound
from backline.logs import schema
from backline.logs.query import compile_query
from backline.logs.services import get_source
from backline.logs.source import Bucket, LogEvent, iso_utc
from backline.tickets import services as ticket_services
from backline.tickets.choices import Status, Tier
from backline.tickets.models import Ticket
from backline.tickets.selectors import ticket_for_user
from backline.workbench import timeline as timeline_rules
from backline.workbench.models import PinnedEvidence
from backline.workbench.selectors import evidence_for_ticket

PROTECTED_PATHS: frozenset[str] = schema.PROTECTED_COLUMNS | schema.PROTECTED_ATTRIBUTES
FACET_FIELDS: tuple[tuple[str, str], ...] = (
    ("service", "Service"),
    ("status", "Status"),
    ("@upstream", "Upstream"),
    ("@facility", "Facility"),
    ("@error_code", "Error code"),
    ("version", "Version"),
    ("@path", "Path"),
)
DEFAULT_COLUMNS: tuple[str, ...] = ("ts", "status", "service", "upstream", "status_code", "message")
PAGE_SIZE = 50
EXPORT_LIMIT = 5000
TIMELINE_LIMIT = 3000
MIN_REASON_LENGTH = 10
MAX_WINDOW = timedelta(days=31)
# Attribute paths that may hold each kind of identifier, for finding a non-UUID subject's events.
_SUBJECT_PATHS: dict[str, tuple[str, ...]] = {
    "ICN": ("payload.icn", "icn"),
    "EDIPI": ("payload.edipi", "edipi"),
    "MHV": ("payload.mhv_correlation_id", "payload.mhv_id", "mhv_correlation_id", "mhv_id"),
    "EMAIL": ("payload.email", "email", "usr.email"),
    "PHONE": ("payload.phone", "phone"),
}


def redactor() -> Redactor:
    """The redactor keyed with this site's ``SECRET_KEY`` (tokens are stable per site)."""
    return log_redactor()


def subject_token(identifier: str) -> str:
    """The ticket's affected user as the token their identifier has in masked log lines."""
    kind, value = identifier_key(identifier)
    return redactor().token(kind, value) if value else ""


def identifier_key(value: str) -> tuple[str, str]:
    """``(kind, canonical form)`` of one identifier as typed; kind ``ID`` when not recognised."""
    text = value.strip()
    found = redactor().find(text)
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(text):
        return found[0].kind, canonical(found[0].kind, text)
    return "ID", text


def quote_value(value: str) -> str:
    """A value as a Datadog query phrase: ``"..."`` with ``\\`` and ``"`` escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---- the checkpoint ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LogAccess:
    """What one viewer may see in one request, and why. Made by ``log_access`` only."""

    user: User
    ticket: Ticket | None = None
    reason: str = ""  # an admin's typed justification
    unmask_all: bool = False
    # Canonical identifiers (upper case) whose events are shown unmasked: the ticket's user.
    subjects: frozenset[str] = frozenset()
    refusal: str = ""  # why identifiers stay masked although a ticket or reason was given
    subject_query: str = ""  # filter for the ticket's user (filled by ``with_subject``)

    @property
    def unmask_granted(self) -> bool:
        return self.unmask_all or bool(self.subjects)

    @property
    def banner(self) -> str:
        """The words shown on screen while anything may be unmasked."""
        if self.unmask_all:
            return f"Unmasked by {self.user.name}: {self.reason}"
        if self.subjects and self.ticket is not None:
            return f"Unmasked for {self.ticket.number}"
        return ""

    @property
    def ticket_number(self) -> str:
        return self.ticket.number if self.ticket is not None else ""


def unmask_refusal(user: User, ticket: Ticket) -> str:
    """Why ``user`` may not see ``ticket``'s user unmasked, or "" when they may."""
    if not can(user, Action.IDENTIFIER_REVEAL) or not can(user, Action.TICKET_WORK):
        return "Your roles see patient identifiers masked."
    if ticket.tier != Tier.TIER3:
        return f"{ticket.number} is not at Tier 3, so identifiers stay masked."
    if ticket.status in (Status.CLOSED, Status.CANCELED):
        return f"{ticket.number} is {ticket.get_status_display().lower()}: identifiers stay masked."
    if not ticket.affected_user_id.strip():
        return f"{ticket.number} names no affected user."
    return ""


def log_access(*, user: User, ticket_number: str = "", reason: str = "") -> LogAccess:
    """The checkpoint for every workbench read. Raises PermissionDenied, NotFound, InvalidInput.

    - Without ``logs.search`` (Tier 1, no role): refused.
    - ``ticket_number``: the ticket must be visible to the viewer; identifiers of its affected user
      are unmasked when the viewer may work it at Tier 3 (``unmask_refusal`` says otherwise why).
    - ``reason``: a typed justification; only roles with ``logs.unmask_justified`` (admins) may
      give one, and it unmasks everything they look at in this request.
    """
    require(user, Action.LOGS_SEARCH)
    ticket = ticket_for_user(user=user, number=ticket_number) if ticket_number.strip() else None
    reason = reason.strip()
    if reason:
        if not can(user, Action.LOGS_UNMASK_JUSTIFIED):
            raise PermissionDenied(
                "Only admins may unmask logs with a typed reason; open the ticket you are working."
            )
        if len(reason) < MIN_REASON_LENGTH:
            raise InvalidInput(
                "Say why you need identifiers unmasked.",
                {"reason": [f"Write at least {MIN_REASON_LENGTH} characters."]},
            )
        return LogAccess(user=user, ticket=ticket, reason=reason[:500], unmask_all=True)
    if ticket is None:
        return LogAccess(user=user)
    refusal = unmask_refusal(user, ticket)
    if refusal:
        return LogAccess(user=user, ticket=ticket, refusal=refusal)
    _kind, value = identifier_key(ticket.affected_user_id)
    return LogAccess(user=user, ticket=ticket, subjects=frozenset({value.upper()}))


def _subject_paths(kind: str) -> tuple[str, ...]:
    return _SUBJECT_PATHS.get(kind, ())


def subject_filter(identifier: str, user_uuids: tuple[str, ...] = ()) -> str:
    """The query that finds one patient's events, from the identifier on the ticket.

    A UUID is the ``user_uuid`` column; other kinds are looked for in the attributes that hold
    them (and as a phrase in the message when no attribute is known), OR-ed with the user UUIDs
    already found for them.
    """
    kind, value = identifier_key(identifier)
    terms = [f"@user_uuid:{quote_value(u)}" for u in user_uuids]
    if kind == UUID:
        terms.insert(0, f"@user_uuid:{quote_value(value)}")
    else:
        paths = _subject_paths(kind)
        terms += [f"@{path}:{quote_value(identifier.strip())}" for path in paths]
        if not paths:
            terms.append(quote_value(identifier.strip()))
    unique = list(dict.fromkeys(terms))
    return unique[0] if len(unique) == 1 else "(" + " OR ".join(unique) + ")"


def with_subject(access: LogAccess, start: datetime, end: datetime) -> LogAccess:
    """``access`` with the ticket's user filter, resolving a non-UUID identifier to user UUIDs.

    For an ICN or EDIPI the portal's events mostly carry only the user UUID, so the first step
    finds the UUIDs that appear next to the identifier in this window; the second step's filter
    then matches every event of those users. Found UUIDs are unmasked like the identifier.
    """
    if access.ticket is None or not access.ticket.affected_user_id.strip():
        raise InvalidInput("No affected user to filter on.", {"ticket": ["Name a ticket."]})
    identifier = access.ticket.affected_user_id.strip()
    kind, _value = identifier_key(identifier)
    uuids: tuple[str, ...] = ()
    if kind != UUID:
        page = get_source().search(subject_filter(identifier), start, end, limit=100)
        uuids = tuple(
            dict.fromkeys(
                str(e.columns["user_id"]) for e in page.events if e.columns.get("user_id")
            )
        )
    subjects = access.subjects
    if subjects:
        subjects = subjects | {canonical(UUID, u).upper() for u in uuids}
    return dataclasses.replace(
        access, subject_query=subject_filter(identifier, uuids), subjects=subjects
    )


# ---- presenting events ------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownEvent:
    """One event as this viewer sees it: ``data`` is ``LogEvent.as_dict()``, masked or not."""

    ts: datetime
    data: dict[str, Any]
    unmasked: bool

    @property
    def failed(self) -> bool:
        return timeline_rules.event_failed(self.data)

    @property
    def sign_in(self) -> bool:
        return timeline_rules.event_is_sign_in(self.data)

    def value(self, column: str) -> Any:
        """A column (``status``) or an attribute path (``@payload.icn``), or None."""
        if column == "ts":
            return self.ts
        name = column.removeprefix("@")
        mapped = schema.ATTRIBUTE_COLUMNS.get(name, name)
        if mapped in self.data and mapped != "attrs":
            return self.data[mapped]
        node: Any = self.data.get("attrs", {})
        for part in name.split("."):
            if not isinstance(node, Mapping):
                return None
            node = node.get(part)
        return node

    def for_stitching(self) -> dict[str, Any]:
        return {**self.data, "ts": self.ts}

    def json(self) -> str:
        return json.dumps(self.data, indent=2, sort_keys=True, default=str)


def _leaf_identifiers(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaf_identifiers(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for item in node:
            yield from _leaf_identifiers(item, path)
    elif isinstance(node, str | int) and not isinstance(node, bool):
        kind = kind_for_key(path.rsplit(".", 1)[-1]) or kind_for_key(path)
        if kind is not None:
            yield canonical(kind, str(node)).upper()


def event_concerns(event: LogEvent, subjects: frozenset[str]) -> bool:
    """Does the event belong to one of ``subjects`` (its user UUID or an identifier attribute)?"""
    if not subjects:
        return False
    user_id = event.columns.get("user_id")
    if isinstance(user_id, str) and canonical(UUID, user_id).upper() in subjects:
        return True
    return any(value in subjects for value in _leaf_identifiers(event.attrs, ""))


def show_event(event: LogEvent, access: LogAccess) -> ShownEvent:
    """The event as ``access`` may see it: raw when unmasked for it, else every identifier masked."""
    raw = event.as_dict()
    if access.unmask_all or event_concerns(event, access.subjects):
        return ShownEvent(ts=event.ts, data=raw, unmasked=True)
    masked = redactor().redact_event(raw, protected_paths=PROTECTED_PATHS)
    return ShownEvent(ts=event.ts, data=masked, unmasked=False)


def show_stored_event(data: Mapping[str, Any], access: LogAccess) -> ShownEvent:
    """A pinned (stored ``as_dict``) event through the same rules as a live one."""
    columns = {k: v for k, v in data.items() if k not in ("ts", "attrs")}
    attrs = data.get("attrs")
    ts = datetime.fromisoformat(str(data["ts"]).replace("Z", "+00:00"))
    event = LogEvent(ts=ts, columns=columns, attrs=attrs if isinstance(attrs, dict) else {})
    return show_event(event, access)


def mask_text(text: str, access: LogAccess) -> str:
    """Free text (a facet value) masked unless everything is unmasked for this viewer."""
    return text if access.unmask_all else redactor().redact_text(text)


# ---- audit ------------------------------------------------------------------------------------


def _audit_subject(access: LogAccess, query: str) -> str:
    if access.ticket is not None and access.ticket.affected_user_id:
        return identifier_key(access.ticket.affected_user_id)[1]
    found = redactor().find(query)
    return canonical(found[0].kind, found[0].value) if found else ""


def _audit_look(
    access: LogAccess,
    *,
    action: str,
    query: str,
    start: datetime,
    end: datetime,
    count: int,
    unmasked: bool,
    detail: dict[str, Any] | None = None,
) -> None:
    with transaction.atomic():
        audit_record(
            actor=access.user,
            action=action,
            subject=_audit_subject(access, query),
            ticket_number=access.ticket_number,
            reason=access.reason,
            query=query,
            result_count=count,
            unmasked=unmasked,
            detail={"from": iso_utc(start), "to": iso_utc(end), **(detail or {})},
        )


def check_window(start: datetime, end: datetime) -> None:
    """A window the workbench will read: ordered, and at most ``MAX_WINDOW`` long."""
    if start >= end:
        raise InvalidInput("The window is empty.", {"window": ["'from' must be before 'to'."]})
    if end - start > MAX_WINDOW:
        raise InvalidInput(
            "The window is too long.", {"window": ["Search at most 31 days at a time."]}
        )


# ---- the explorer -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetRow:
    value: str  # as shown (masked when needed)
    count: int
    filterable: bool  # False when the shown value is a token: a link would not match


@dataclass
class ExplorerResult:
    query: str  # what ran: the typed query, AND the ticket user's filter when scoped
    events: list[ShownEvent]
    next_cursor: str | None
    facets: dict[str, list[FacetRow]] = field(default_factory=dict)
    buckets: list[Bucket] = field(default_factory=list)
    step: timedelta | None = None

    @property
    def unmasked(self) -> bool:
        return any(event.unmasked for event in self.events)


def effective_query(query: str, access: LogAccess, *, scope_user: bool) -> str:
    """The typed query (validated on its own, so error positions match what was typed), AND the
    ticket user's filter when the view is scoped to them."""
    compile_query(query)
    if not scope_user:
        return query
    if not access.subject_query:
        raise InvalidInput("No affected user to filter on.", {"scope": ["Name a ticket."]})
    return f"({query}) {access.subject_query}" if query.strip() else access.subject_query


def explorer_search(
    *,
    access: LogAccess,
    query: str,
    start: datetime,
    end: datetime,
    cursor: str | None = None,
    scope_user: bool = False,
    step: timedelta | None = None,
    aggregates: bool = True,
    limit: int | None = None,
) -> ExplorerResult:
    """One page of matching events, and (with ``aggregates``) facets and status counts per
    ``step``. Masked per ``access``; one audit row (``workbench.search``)."""
    check_window(start, end)
    if scope_user:
        access = with_subject(access, start, end)
    full_query = effective_query(query, access, scope_user=scope_user)
    source = get_source()
    page = source.search(full_query, start, end, limit=limit or PAGE_SIZE, cursor=cursor)
    result = ExplorerResult(
        query=full_query,
        events=[show_event(event, access) for event in page.events],
        next_cursor=page.next_cursor,
    )
    facets_unmasked = access.unmask_all or (scope_user and bool(access.subjects))
    if aggregates:
        raw_facets = source.facets(
            full_query, start, end, fields=[name for name, _label in FACET_FIELDS], limit=8
        )
        for name, values in raw_facets.items():
            rows = []
            for facet in values:
                if facet.value is None:
                    continue
                text = str(facet.value)
                shown = text if facets_unmasked else mask_text(text, access)
                rows.append(FacetRow(shown, facet.count, filterable=shown == text))
            result.facets[name] = rows
        if step is not None:
            result.buckets = source.timeseries(
                full_query, start, end, interval=step, group_by="status", limit=10
            )
            result.step = step
    _audit_look(
        access,
        action="workbench.search",
        query=full_query,
        start=start,
        end=end,
        count=len(result.events),
        unmasked=result.unmasked or (facets_unmasked and aggregates),
        detail={
            "kind": "explorer" if aggregates else "tail",
            "cursor": cursor or "",
            "matched": sum(b.count for b in result.buckets),
        },
    )
    return result


# ---- exports ----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)


def logs_export(
    *,
    access: LogAccess,
    query: str,
    start: datetime,
    end: datetime,
    columns: list[str],
    fmt: str,
    scope_user: bool = False,
) -> tuple[str, str]:
    """The matching events (at most ``EXPORT_LIMIT``) as CSV or JSON text, masked per ``access``;
    returns ``(text, content type)``. Audited as ``workbench.export``."""
    if fmt not in ("csv", "json"):
        raise InvalidInput("Unknown export format.", {"format": ["Choose csv or json."]})
    check_window(start, end)
    if scope_user:
        access = with_subject(access, start, end)
    full_query = effective_query(query, access, scope_user=scope_user)
    source = get_source()
    shown: list[ShownEvent] = []
    cursor: str | None = None
    while len(shown) < EXPORT_LIMIT:
        page = source.search(
            full_query, start, end, limit=min(1000, EXPORT_LIMIT - len(shown)), cursor=cursor
        )
        shown += [show_event(event, access) for event in page.events]
        cursor = page.next_cursor
        if cursor is None:
            break
    if fmt == "json":
        text = json.dumps([event.data for event in shown], indent=1, default=str)
        content_type = "application/json"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for event in shown:
            writer.writerow([_cell(event.value(column)) for column in columns])
        text = buffer.getvalue()
        content_type = "text/csv"
    _audit_look(
        access,
        action="workbench.export",
        query=full_query,
        start=start,
        end=end,
        count=len(shown),
        unmasked=any(event.unmasked for event in shown),
        detail={"format": fmt, "columns": columns, "truncated": cursor is not None},
    )
    return text, content_type


# ---- a ticket's timeline ----------------------------------------------------------------------


@dataclass
class TicketLook:
    access: LogAccess
    start: datetime
    end: datetime
    events: list[ShownEvent]
    timeline: timeline_rules.Timeline
    truncated: bool
    evidence: list[PinnedEvidence]

    @property
    def unmasked(self) -> bool:
        return any(event.unmasked for event in self.events)


DEFAULT_BEFORE = timedelta(hours=2)
DEFAULT_AFTER = timedelta(hours=1)


def ticket_window(
    ticket: Ticket, *, before: timedelta = DEFAULT_BEFORE, after: timedelta = DEFAULT_AFTER
) -> tuple[datetime, datetime]:
    """Around when it happened: ``occurred_at`` (else when the ticket was opened) - before/+ after."""
    anchor = ticket.occurred_at or ticket.created_at or timezone.now()
    end_anchor = ticket.occurred_until if ticket.occurred_until else anchor
    return anchor - before, max(end_anchor, anchor) + after


def _fetch_all(query: str, start: datetime, end: datetime) -> tuple[list[LogEvent], bool]:
    source = get_source()
    events: list[LogEvent] = []
    cursor: str | None = None
    while True:
        page = source.search(query, start, end, limit=1000, cursor=cursor, sort="asc")
        events += page.events
        cursor = page.next_cursor
        if cursor is None:
            return events, False
        if len(events) >= TIMELINE_LIMIT:
            return events[:TIMELINE_LIMIT], True


def ticket_timeline(
    *, access: LogAccess, start: datetime, end: datetime, gap: timedelta | None = None
) -> TicketLook:
    """The ticket's user's events in ``[start, end)`` stitched into requests; audited as
    ``workbench.timeline`` (unmasked when any event was shown unmasked)."""
    ticket = access.ticket
    if ticket is None:
        raise InvalidInput("A timeline needs a ticket.", {"ticket": ["Name a ticket."]})
    check_window(start, end)
    access = with_subject(access, start, end)
    events, truncated = _fetch_all(access.subject_query, start, end)
    shown = [show_event(event, access) for event in events]
    stitched = timeline_rules.stitch(
        [event.for_stitching() for event in shown], gap=gap or timeline_rules.DEFAULT_GAP
    )
    evidence = list(evidence_for_ticket(ticket))
    look = TicketLook(access, start, end, shown, stitched, truncated, evidence)
    _audit_look(
        access,
        action="workbench.timeline",
        query=access.subject_query,
        start=start,
        end=end,
        count=len(shown),
        unmasked=look.unmasked or any(_evidence_unmasked(e, access) for e in evidence),
        detail={"requests": len(stitched.requests), "evidence": len(evidence)},
    )
    return look


# ---- evidence ---------------------------------------------------------------------------------


def _evidence_unmasked(evidence: PinnedEvidence, access: LogAccess) -> bool:
    return any(show_stored_event(e, access).unmasked for e in evidence.event_dicts())


def evidence_events(evidence: PinnedEvidence, access: LogAccess) -> list[ShownEvent]:
    """The frozen events of one pin, shown through ``access``'s masking."""
    return [show_stored_event(e, access) for e in evidence.event_dicts()]


def _summary(events: list[ShownEvent], request_id: str) -> str:
    """A short masked line for the ticket timeline: the failing call if any, else the request."""
    masked = [redactor().redact_event(e.data, protected_paths=PROTECTED_PATHS) for e in events]
    failing = [e for e in masked if timeline_rules.event_failed(e)]
    chosen = failing[0] if failing else masked[-1]
    parts = [
        str(chosen.get(key))
        for key in ("http_method", "path", "status_code", "upstream", "error_code")
        if chosen.get(key) not in (None, "")
    ]
    where = " ".join(parts) or str(chosen.get("message", ""))[:120]
    count = f"{len(events)} event" + ("" if len(events) == 1 else "s")
    return f"Pinned {count} as evidence (request {request_id or 'without id'}): {where}"[:300]


def evidence_pin(
    *,
    access: LogAccess,
    request_id: str,
    start: datetime,
    end: datetime,
    event_ts: datetime | None = None,
    note: str = "",
) -> PinnedEvidence:
    """Freeze one request's events (or the one at ``event_ts``) of the ticket's user as evidence.

    The events are fetched again from the source with the ticket user's filter, so only events
    about that user can be pinned and nothing the client sends is stored as an event. Writes the
    evidence, a ticket timeline entry and an audit row in one transaction.
    """
    ticket = access.ticket
    if ticket is None:
        raise InvalidInput("Evidence belongs to a ticket.", {"ticket": ["Name a ticket."]})
    request_id = request_id.strip()
    if not request_id:
        raise InvalidInput("Say which request to pin.", {"request_id": ["This field is required."]})
    check_window(start, end)
    access = with_subject(access, start, end)
    query = f"{access.subject_query} @request_id:{quote_value(request_id)}"
    events, _truncated = _fetch_all(query, start, end)
    if event_ts is not None:
        events = [e for e in events if abs((e.ts - event_ts).total_seconds()) < 0.0005]
    if not events:
        raise NotFound(f"No event of {ticket.number}'s user with request id {request_id} there.")
    shown = [show_event(event, access) for event in events]
    with transaction.atomic():
        evidence = PinnedEvidence.objects.create(
            ticket=ticket,
            events=[event.as_dict() for event in events],
            request_id=request_id,
            query=query,
            window_start=start,
            window_end=end,
            summary=_summary(shown, request_id),
            note=note.strip()[:2000],
            pinned_by=access.user,
        )
        ticket_services.ticket_note_evidence(
            ticket=ticket,
            actor=access.user,
            summary=evidence.summary + (f" Note: {redactor().redact_text(note)}" if note else ""),
            data={"evidence_id": evidence.pk, "request_id": request_id, "events": len(events)},
        )
        _audit_look(
            access,
            action="workbench.evidence.pin",
            query=query,
            start=start,
            end=end,
            count=len(events),
            unmasked=any(event.unmasked for event in shown),
            detail={"evidence_id": evidence.pk},
        )
    return evidence


def evidence_unpin(*, user: User, ticket: Ticket, evidence_id: int) -> PinnedEvidence:
    """Take a pin off the ticket (kept, marked removed); noted on the timeline and audited."""
    require(user, Action.LOGS_SEARCH)
    with transaction.atomic():
        evidence = (
            PinnedEvidence.objects.select_for_update()
            .filter(pk=evidence_id, ticket=ticket, removed_at__isnull=True)
            .first()
        )
        if evidence is None:
            raise NotFound(f"No pinned evidence {evidence_id} on {ticket.number}.")
        PinnedEvidence.objects.filter(pk=evidence.pk).update(
            removed_at=timezone.now(), removed_by=user
        )
        ticket_services.ticket_note_evidence(
            ticket=ticket,
            actor=user,
            summary=f"Unpinned evidence: {evidence.summary}"[:300],
            data={"evidence_id": evidence.pk, "removed": True},
        )
        audit_record(
            actor=user,
            action="workbench.evidence.unpin",
            ticket_number=ticket.number,
            detail={"evidence_id": evidence.pk},
        )
    evidence.refresh_from_db()
    return evidence


def evidence_view(*, access: LogAccess) -> list[tuple[PinnedEvidence, list[ShownEvent]]]:
    """The ticket's pins with their events shown per ``access``; an unmasked view is audited."""
    if access.ticket is None:
        raise InvalidInput("Evidence belongs to a ticket.", {"ticket": ["Name a ticket."]})
    pins = [(pin, evidence_events(pin, access)) for pin in evidence_for_ticket(access.ticket)]
    count = sum(len(events) for _pin, events in pins)
    unmasked = any(event.unmasked for _pin, events in pins for event in events)
    now = timezone.now()
    _audit_look(
        access,
        action="workbench.evidence.view",
        query="",
        start=now,
        end=now,
        count=count,
        unmasked=unmasked,
        detail={"pins": len(pins)},
    )
    return pins
