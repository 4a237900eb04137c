"""Writes of the notify app: outbox rows for events, delivery attempts, retries, channels, rules.

Every notification is a ``Delivery`` row written in the transaction of the event that causes it
(tickets call ``on_ticket_event`` through ``tickets.services.in_transaction_hooks``); the delivery
task is enqueued on commit. Guarantee: at-least-once per row, with duplicates suppressed by
PagerDuty's dedup key (see docs/notifications.md).

This app reads tickets, people and on-call answers; it never writes to a ticket.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.accounts.roles import Role
from backline.audit.services import audit_record
from backline.errors import Conflict, InvalidInput, NotFound
from backline.notify import rendering
from backline.notify.channels import DeliveryError, PermanentError, Sent, TransientError
from backline.notify.channels import email as email_channel
from backline.notify.channels import pagerduty as pagerduty_channel
from backline.notify.channels import slack as slack_channel
from backline.notify.models import (
    PERSONAL_CHANNELS,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Event,
    NotificationRule,
)
from backline.notify.retry import retry_delay
from backline.tickets.choices import Priority, SlaState
from backline.tickets.models import Ticket

logger = logging.getLogger(__name__)

DEFAULT_PERSONAL_CHANNELS = (ChannelKind.SLACK, ChannelKind.EMAIL)
SENDABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED)


def _now() -> datetime:
    return timezone.now()


# ---------------------------------------------------------------------------------------------
# On-call answers. INTEGRATION POINT with the oncall app: the only places notify asks who is on
# call, whether it is inside coverage, and which gaps lie ahead. Tests replace ``on_call_lookup``.


@dataclass(frozen=True)
class OnCallNow:
    person: User | None
    in_coverage: bool


def _on_call_from_oncall_app(role: Role, at: datetime) -> OnCallNow:
    try:
        from backline.oncall.selectors import on_call_for
    except ImportError:  # on-call app not installed: nobody known, never page for coverage
        return OnCallNow(person=None, in_coverage=True)
    answer = on_call_for(role=role.value, at=at)
    return OnCallNow(person=answer.person, in_coverage=bool(answer.in_coverage))


on_call_lookup: Callable[[Role, datetime], OnCallNow] = _on_call_from_oncall_app


def _gaps_from_oncall_app(now: datetime, days: int) -> list[tuple[str, datetime, datetime]]:
    try:
        from backline.oncall.selectors import gaps_ahead
    except ImportError:
        return []
    found = gaps_ahead(days=days, now=now)
    return [(str(role), start, end) for role, gaps in found.items() for start, end in gaps]


gaps_lookup: Callable[[datetime, int], list[tuple[str, datetime, datetime]]] = _gaps_from_oncall_app


# ---------------------------------------------------------------------------------------------
# Writing outbox rows.


def ticket_link(number: str) -> str:
    try:
        path = reverse("tickets:detail", args=[number])
    except NoReverseMatch:
        path = f"/tickets/{number}/"
    return f"{settings.SITE_URL}{path}"


def ticket_facts(ticket: Ticket, now: datetime) -> rendering.TicketFacts:
    """The facts a message shows about ``ticket``, copied now (the payload never changes later)."""
    started = ticket.sla_started_at is not None
    return rendering.TicketFacts(
        number=ticket.number,
        title=ticket.title,
        priority=ticket.priority,
        priority_label=ticket.get_priority_display(),
        status_label=ticket.get_status_display(),
        link=ticket_link(ticket.number),
        sla_target=ticket.next_target() if started else "",
        sla_due_at=ticket.next_due_at,
        sla_state=SlaState(ticket.sla_state(now)).label if started else "",
        assignee=ticket.assignee.name if ticket.assignee_id and ticket.assignee else "",
    )


def ticket_dedup_key(ticket: Ticket) -> str:
    """The PagerDuty dedup key of a ticket's page: stable, so repeats land on one alert."""
    return f"backline-ticket-{ticket.number}"


def _enqueue_delivery(delivery_id: int, run_after: datetime) -> None:
    from backline.notify import tasks

    task = tasks.deliver
    if run_after > _now():
        task = task.using(run_after=run_after)
    task.enqueue(delivery_id)
    tasks.sweep_ensure()


def delivery_write(
    *,
    event: str,
    channel: str,
    target: str,
    payload: Mapping[str, Any],
    key: str,
    ticket: Ticket | None = None,
    recipient: User | None = None,
    channel_config: Channel | None = None,
    dedup_key: str = "",
    not_before: datetime | None = None,
) -> Delivery | None:
    """Write one outbox row in the caller's transaction and enqueue its delivery on commit.

    Returns None when a row with the same ``key`` exists already (a timer or event handled twice).
    """
    now = _now()
    try:
        with transaction.atomic():  # a savepoint: a duplicate key must not break the caller
            delivery = Delivery.objects.create(
                event=event,
                channel=channel,
                target=target,
                payload=dict(payload),
                key=key[:255],
                ticket=ticket,
                recipient=recipient,
                channel_config=channel_config,
                dedup_key=dedup_key,
                next_attempt_at=max(now, not_before) if not_before else now,
            )
    except IntegrityError:
        return None
    transaction.on_commit(partial(_enqueue_delivery, delivery.pk, delivery.next_attempt_at))
    return delivery


def _rule_for(user: User, event: str) -> NotificationRule | None:
    return NotificationRule.objects.filter(user=user, event=event).first()


def _to_person(
    *,
    user: User,
    notice: rendering.Notice,
    ticket: Ticket | None,
    key: str,
    urgent: bool,
    now: datetime,
) -> list[Delivery]:
    """Slack DM and/or email to one person, as their rule for this event says (default: both)."""
    rule = _rule_for(user, notice.event)
    kinds = list(rule.channels) if rule is not None else list(DEFAULT_PERSONAL_CHANNELS)
    # Quiet hours hold messages back until the window ends; never for urgent (Critical) ones.
    not_before = None if urgent or rule is None else rule.quiet_until(now, user.time_zone)
    written: list[Delivery | None] = []
    if ChannelKind.SLACK in kinds:
        message = rendering.slack_message(notice, tz=user.time_zone)
        for channel in Channel.objects.filter(kind=ChannelKind.SLACK, user=user, enabled=True):
            written.append(
                delivery_write(
                    event=notice.event,
                    channel=ChannelKind.SLACK,
                    target=channel.target,
                    channel_config=channel,
                    payload=message,
                    key=f"{key}:slack:ch{channel.pk}",
                    ticket=ticket,
                    recipient=user,
                    not_before=not_before,
                )
            )
    if ChannelKind.EMAIL in kinds and user.email:
        written.append(
            delivery_write(
                event=notice.event,
                channel=ChannelKind.EMAIL,
                target=user.email,
                payload=rendering.email_message(notice, tz=user.time_zone),
                key=f"{key}:email:u{user.pk}",
                ticket=ticket,
                recipient=user,
                not_before=not_before,
            )
        )
    return [d for d in written if d is not None]


def _to_team(
    *,
    role: Role,
    notice: rendering.Notice,
    ticket: Ticket | None,
    key: str,
    kinds: Sequence[str] = (ChannelKind.SLACK,),
) -> list[Delivery]:
    """Every enabled team channel (Slack, email list) of ``role``."""
    written: list[Delivery | None] = []
    for channel in Channel.objects.filter(
        kind__in=kinds, role=role, user__isnull=True, enabled=True
    ):
        if channel.kind == ChannelKind.SLACK:
            payload = rendering.slack_message(notice, tz=settings.TIME_ZONE)
        else:
            payload = rendering.email_message(notice, tz=settings.TIME_ZONE)
        written.append(
            delivery_write(
                event=notice.event,
                channel=channel.kind,
                target=channel.target,
                channel_config=channel,
                payload=payload,
                key=f"{key}:{channel.kind}:ch{channel.pk}",
                ticket=ticket,
            )
        )
    return [d for d in written if d is not None]


def _page(
    *,
    role: Role,
    notice: rendering.Notice,
    ticket: Ticket | None,
    dedup_key: str,
    priority: str,
    evidence: Mapping[str, Any] | None = None,
) -> list[Delivery]:
    """Trigger an alert on every PagerDuty service of ``role``, once per open alert.

    The key counts earlier resolves, so a ticket resolved and reopened can page again while a
    second trigger for a still-open alert is not written at all.
    """
    written: list[Delivery | None] = []
    event = pagerduty_channel_event(notice, "trigger", dedup_key, priority, evidence)
    for channel in Channel.objects.filter(kind=ChannelKind.PAGERDUTY, role=role, enabled=True):
        cycle = Delivery.objects.filter(
            channel=ChannelKind.PAGERDUTY,
            dedup_key=dedup_key,
            channel_config=channel,
            payload__event_action="resolve",
        ).count()
        written.append(
            delivery_write(
                event=notice.event,
                channel=ChannelKind.PAGERDUTY,
                target=channel.target,
                channel_config=channel,
                payload=event,
                key=f"pd:{dedup_key}:trigger:ch{channel.pk}:{cycle}",
                ticket=ticket,
                dedup_key=dedup_key,
            )
        )
    return [d for d in written if d is not None]


def pagerduty_channel_event(
    notice: rendering.Notice,
    action: str,
    dedup_key: str,
    priority: str,
    evidence: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return rendering.pagerduty_event(
        notice,
        action=action,
        dedup_key=dedup_key,
        severity=pagerduty_channel.severity_for(priority),
        source=f"backline {settings.SITE_URL}",
        evidence=evidence,
    )


def _page_follow_up(*, ticket: Ticket, action: str, event: str) -> list[Delivery]:
    """Acknowledge or resolve the ticket's alert on each service it was triggered on."""
    dedup_key = ticket_dedup_key(ticket)
    triggers = (
        Delivery.objects.filter(
            channel=ChannelKind.PAGERDUTY, dedup_key=dedup_key, payload__event_action="trigger"
        )
        .exclude(channel_config__isnull=True)
        .select_related("channel_config")
    )
    written: list[Delivery | None] = []
    seen: set[int] = set()
    for trigger in triggers:
        channel = trigger.channel_config
        if channel is None or channel.pk in seen:
            continue
        seen.add(channel.pk)
        cycle = Delivery.objects.filter(
            channel=ChannelKind.PAGERDUTY,
            dedup_key=dedup_key,
            channel_config=channel,
            payload__event_action="trigger",
        ).count()
        written.append(
            delivery_write(
                event=event,
                channel=ChannelKind.PAGERDUTY,
                target=channel.target,
                channel_config=channel,
                payload={"event_action": action, "dedup_key": dedup_key},
                key=f"pd:{dedup_key}:{action}:ch{channel.pk}:{cycle}",
                ticket=ticket,
                dedup_key=dedup_key,
            )
        )
    return [d for d in written if d is not None]


# ---------------------------------------------------------------------------------------------
# Ticket events.


def subscribe() -> None:
    """Register with the tickets app (called once from the app config)."""
    from backline.tickets import services as ticket_services

    hooks = getattr(ticket_services, "in_transaction_hooks", None)
    if hooks is not None and on_ticket_event not in hooks:
        hooks.append(on_ticket_event)


def on_ticket_event(ticket: Ticket, event: str, actor: User | None) -> None:
    """Inside the ticket's transaction: keep SLA timers in step and write the event's messages."""
    from backline.notify import timers

    now = _now()
    timers.timers_sync(ticket=ticket, now=now)
    if event == "escalated_tier3":
        notify_escalated_tier3(ticket=ticket, actor=actor, now=now)
    elif event == "priority":
        _page_if_after_hours(ticket=ticket, now=now, why="raised to Critical")
    elif event == "acknowledged" or (event == "status" and ticket.acknowledged_at is not None):
        _page_follow_up(ticket=ticket, action="acknowledge", event=Event.ALERT_ACKNOWLEDGED)
    if event in ("resolved", "canceled"):
        _page_follow_up(ticket=ticket, action="resolve", event=Event.ALERT_RESOLVED)


def _ticket_key(event: str, ticket: Ticket, now: datetime) -> str:
    return f"{event}:{ticket.number}:{now.isoformat()}"


def notify_escalated_tier3(*, ticket: Ticket, actor: User | None, now: datetime) -> None:
    """Tier 3 on-call engineer (Slack DM + email per their rules) and the Tier 3 team channel;
    outside coverage a Critical ticket also pages the Monitoring on-call through PagerDuty."""
    on_call = on_call_lookup(Role.TIER3, now)
    person = ticket.assignee or on_call.person
    by = f" by {actor.name}" if actor is not None else ""
    notice = rendering.Notice(
        event=Event.ESCALATED_TIER3,
        headline=f"{ticket.number} escalated to Tier 3",
        what_happened=(
            f"Escalated to Tier 3{by}. "
            + (f"On call: {person.name}." if person else "Nobody is on call for Tier 3 now.")
        ),
        ticket=ticket_facts(ticket, now),
    )
    key = _ticket_key(Event.ESCALATED_TIER3, ticket, now)
    critical = ticket.priority == Priority.CRITICAL
    if person is not None:
        _to_person(user=person, notice=notice, ticket=ticket, key=key, urgent=critical, now=now)
    _to_team(role=Role.TIER3, notice=notice, ticket=ticket, key=key)
    if critical and not on_call.in_coverage:
        _page_if_after_hours(ticket=ticket, now=now, why="escalated to Tier 3", on_call=on_call)


def _page_if_after_hours(
    *, ticket: Ticket, now: datetime, why: str, on_call: OnCallNow | None = None
) -> None:
    if ticket.priority != Priority.CRITICAL or not ticket.is_open:
        return
    if ticket.tier != 3 or ticket.acknowledged_at is not None:
        return
    on_call = on_call or on_call_lookup(Role.TIER3, now)
    if on_call.in_coverage:
        return
    notice = rendering.Notice(
        event=Event.AFTER_HOURS_PAGE,
        headline=f"Critical {ticket.number} outside Tier 3 coverage",
        what_happened=(
            f"A Critical (patient-safety) ticket was {why} outside Tier 3 coverage; "
            "the Monitoring on-call is paged."
        ),
        ticket=ticket_facts(ticket, now),
    )
    _page(
        role=Role.MONITORING,
        notice=notice,
        ticket=ticket,
        dedup_key=ticket_dedup_key(ticket),
        priority=ticket.priority,
    )


def notify_sla(*, ticket: Ticket, event: str, due_at: datetime, now: datetime) -> list[Delivery]:
    """SLA at risk or breached: the assignee (or the Tier 3 on-call engineer) and the team channel.

    Keys carry the moment, so a timer that runs twice writes each message once.
    """
    labels = {
        Event.SLA_ACK_AT_RISK: ("acknowledgement SLA at risk", "will be breached"),
        Event.SLA_ACK_BREACHED: ("acknowledgement SLA breached", "was breached"),
        Event.SLA_RESOLVE_AT_RISK: ("resolution SLA at risk", "will be breached"),
        Event.SLA_RESOLVE_BREACHED: ("resolution SLA breached", "was breached"),
    }
    title, verb = labels[Event(event)]
    target_due = ticket.ack_due_at if "ack" in event else ticket.resolve_due_at
    when = rendering.format_when(target_due, settings.TIME_ZONE)
    notice = rendering.Notice(
        event=event,
        headline=f"{ticket.number} {title}",
        what_happened=f"The {title.split(' SLA')[0]} target {verb} at {when}.",
        ticket=ticket_facts(ticket, now),
    )
    key = f"{event}:{ticket.number}:{due_at.isoformat()}"
    person = ticket.assignee or on_call_lookup(Role.TIER3, now).person
    written: list[Delivery] = []
    if person is not None:
        written += _to_person(
            user=person,
            notice=notice,
            ticket=ticket,
            key=key,
            urgent=ticket.priority == Priority.CRITICAL,
            now=now,
        )
    written += _to_team(role=Role.TIER3, notice=notice, ticket=ticket, key=key)
    return written


# ---------------------------------------------------------------------------------------------
# Events from other apps. INTEGRATION POINTS: the escalation and on-call apps call these inside
# their own transactions.


@transaction.atomic
def notify_escalated_to_monitoring(
    *,
    ticket: Ticket,
    actor: User | None,
    evidence: Mapping[str, Any],
    incident_key: str = "",
) -> list[Delivery]:
    """Page the Monitoring on-call with the evidence (``incident_key`` groups several tickets)."""
    now = _now()
    by = f" by {actor.name}" if actor else ""
    notice = rendering.Notice(
        event=Event.ESCALATED_MONITORING,
        headline=f"{ticket.number} escalated to Monitoring",
        what_happened=f"A user problem looks system-wide; escalated to Monitoring{by}.",
        ticket=ticket_facts(ticket, now),
    )
    dedup_key = f"backline-incident-{incident_key}" if incident_key else ticket_dedup_key(ticket)
    written = _page(
        role=Role.MONITORING,
        notice=notice,
        ticket=ticket,
        dedup_key=dedup_key,
        priority=ticket.priority,
        evidence=evidence,
    )
    written += _to_team(role=Role.MONITORING, notice=notice, ticket=ticket, key=dedup_key)
    return written


@transaction.atomic
def notify_escalated_to_investigator(
    *, ticket: Ticket, actor: User | None, request_type: str, question: str
) -> list[Delivery]:
    """Slack and email to the Investigator on-call and their team; never a page."""
    now = _now()
    on_call = on_call_lookup(Role.INVESTIGATOR, now)
    notice = rendering.Notice(
        event=Event.ESCALATED_INVESTIGATOR,
        headline=f"{ticket.number} needs an investigation",
        what_happened=question,
        ticket=ticket_facts(ticket, now),
        details=(("Request type", request_type),)
        + ((("Requested by", actor.name),) if actor else ()),
    )
    key = _ticket_key(Event.ESCALATED_INVESTIGATOR, ticket, now)
    written: list[Delivery] = []
    if on_call.person is not None:
        written += _to_person(
            user=on_call.person, notice=notice, ticket=ticket, key=key, urgent=False, now=now
        )
    written += _to_team(
        role=Role.INVESTIGATOR,
        notice=notice,
        ticket=ticket,
        key=key,
        kinds=(ChannelKind.SLACK, ChannelKind.EMAIL),
    )
    return written


def notify_incident_proposed(
    *,
    headline: str,
    summary: str,
    details: Sequence[tuple[str, str]],
    link: str,
    roles: Sequence[Role],
    key: str,
) -> list[Delivery]:
    """Tell the team channels (Slack and email lists) of ``roles`` that continuous detection
    proposed an incident, as a Datadog monitor posts to a channel; pages are the caller's."""
    notice = rendering.Notice(
        event=Event.INCIDENT_PROPOSED,
        headline=headline,
        what_happened=summary,
        details=tuple(details),
        link=link,
    )
    written: list[Delivery] = []
    for role in dict.fromkeys(roles):
        written += _to_team(
            role=role,
            notice=notice,
            ticket=None,
            key=f"{key}:{role}",
            kinds=(ChannelKind.SLACK, ChannelKind.EMAIL),
        )
    return written


class HandoffLike(Protocol):
    """What notify needs from an on-call handoff (the oncall app's ``Handoff`` row fits)."""

    pk: Any
    at: datetime
    outgoing: User
    incoming: User
    report_markdown: str


def _handoff_role(handoff: HandoffLike) -> Role:
    rotation = getattr(handoff, "rotation", None)
    return Role(getattr(rotation, "role", Role.TIER3) or Role.TIER3)


def notify_handoff_reminder(*, handoff: HandoffLike, before: str, now: datetime) -> list[Delivery]:
    """Remind the outgoing and incoming engineers (``before`` is "day" or "hour")."""
    when = rendering.format_when(handoff.at, settings.TIME_ZONE)
    notice = rendering.Notice(
        event=Event.HANDOFF_REMINDER,
        headline=f"On-call handoff {'tomorrow' if before == 'day' else 'in an hour'}",
        what_happened=(
            f"{handoff.outgoing.name} hands over to {handoff.incoming.name} at {when}. "
            "Outgoing: update your handoff notes; incoming: read the report."
        ),
        link=f"{settings.SITE_URL}/oncall/",
    )
    key = f"handoff_reminder:{handoff.pk}:{handoff.at.isoformat()}:{before}"
    written: list[Delivery] = []
    for person in {
        handoff.outgoing.pk: handoff.outgoing,
        handoff.incoming.pk: handoff.incoming,
    }.values():
        written += _to_person(
            user=person, notice=notice, ticket=None, key=key, urgent=False, now=now
        )
    return written


@transaction.atomic
def notify_handoff_report(*, handoff: HandoffLike) -> list[Delivery]:
    """Post the handoff report to the team channel when it is created."""
    notice = rendering.Notice(
        event=Event.HANDOFF_REPORT,
        headline=f"Handoff report: {handoff.outgoing.name} to {handoff.incoming.name}",
        what_happened=handoff.report_markdown or "No open items.",
        link=f"{settings.SITE_URL}/oncall/",
    )
    return _to_team(
        role=_handoff_role(handoff),
        notice=notice,
        ticket=None,
        key=f"handoff_report:{handoff.pk}:{handoff.at.isoformat()}",
    )


@transaction.atomic
def notify_handoff_acknowledged(*, handoff: HandoffLike) -> list[Delivery]:
    """Tell the outgoing engineer and the team that the incoming engineer took over."""
    now = _now()
    notice = rendering.Notice(
        event=Event.HANDOFF_ACKNOWLEDGED,
        headline=f"{handoff.incoming.name} acknowledged the handoff",
        what_happened=f"{handoff.incoming.name} now owns the open Tier 3 work.",
        link=f"{settings.SITE_URL}/oncall/",
    )
    key = f"handoff_ack:{handoff.pk}:{handoff.at.isoformat()}"
    written = _to_person(
        user=handoff.outgoing, notice=notice, ticket=None, key=key, urgent=False, now=now
    )
    written += _to_team(role=_handoff_role(handoff), notice=notice, ticket=None, key=key)
    return written


@transaction.atomic
def notify_oncall_gaps(
    *, gaps: Iterable[tuple[str, datetime, datetime]], now: datetime
) -> list[Delivery]:
    """Tell every support manager about each coverage gap ahead, once per gap."""
    managers = list(User.objects.filter(is_active=True, role_grants__role=Role.MANAGER).distinct())
    written: list[Delivery] = []
    for role, start, end in gaps:
        label = Role(role).label if role in Role.__members__.values() else role
        notice = rendering.Notice(
            event=Event.ONCALL_GAP,
            headline=f"Nobody on call: {label}",
            what_happened=(
                f"Nobody is on call for {label} from "
                f"{rendering.format_when(start, settings.TIME_ZONE)} to "
                f"{rendering.format_when(end, settings.TIME_ZONE)}. Add an override."
            ),
            link=f"{settings.SITE_URL}/oncall/",
        )
        key = f"gap:{role}:{start.isoformat()}:{end.isoformat()}"
        for manager in managers:
            written += _to_person(
                user=manager, notice=notice, ticket=None, key=key, urgent=False, now=now
            )
    return written


# ---------------------------------------------------------------------------------------------
# Delivering.


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"
    DEAD = "dead"
    WAITING = "waiting"  # an earlier event for the same PagerDuty alert is not out yet
    SKIPPED = "skipped"  # not due, already sent, or another worker holds it


def _ssl_context() -> ssl.SSLContext | None:
    if not settings.NOTIFY_CA_FILE:
        return None
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=settings.NOTIFY_CA_FILE)
    return context


def _send(delivery: Delivery) -> Sent:
    timeout = float(settings.NOTIFY_TIMEOUT_SECONDS)
    if delivery.channel == ChannelKind.SLACK:
        return slack_channel.send(
            url=delivery.target,
            message=delivery.payload,
            timeout=timeout,
            ssl_context=_ssl_context(),
        )
    if delivery.channel == ChannelKind.PAGERDUTY:
        return pagerduty_channel.send(
            routing_key=delivery.target,
            event=delivery.payload,
            base_url=settings.NOTIFY_PAGERDUTY_EVENTS_URL,
            timeout=timeout,
            ssl_context=_ssl_context(),
        )
    if delivery.channel == ChannelKind.EMAIL:
        return email_channel.send(
            to=email_channel.split_addresses(delivery.target),
            message=delivery.payload,
            timeout=timeout,
        )
    raise PermanentError(f"Unknown channel {delivery.channel!r}.")


def _claimable(now: datetime) -> Q:
    lease = timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    return Q(status__in=SENDABLE, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_at__lte=now - lease
    )


def _earlier_page_pending(delivery: Delivery) -> bool:
    """An acknowledge or resolve must not overtake the trigger of the same alert."""
    if delivery.channel != ChannelKind.PAGERDUTY or not delivery.dedup_key:
        return False
    return (
        Delivery.objects.filter(
            channel=ChannelKind.PAGERDUTY,
            dedup_key=delivery.dedup_key,
            target=delivery.target,
            pk__lt=delivery.pk,
        )
        .exclude(status__in=(DeliveryStatus.SENT, DeliveryStatus.DEAD))
        .exists()
    )


def _schedule_next(delivery_id: int, at: datetime) -> None:
    transaction.on_commit(partial(_enqueue_delivery, delivery_id, at))


def delivery_attempt(*, delivery_id: int) -> Outcome:
    """Try to send one outbox row. Safe to run twice and from several workers at once.

    1. Claim: one conditional UPDATE moves the row to "sending" only if it is pending or failed
       and due, or "sending" with an expired lease (its worker died); the row count says whether
       this worker won. The claim counts the attempt and stamps ``claimed_at``.
    2. Send outside any transaction, so no lock is held while a channel is slow.
    3. Record the result with an UPDATE that matches this claim's ``claimed_at``: if the lease
       ran out and another worker reclaimed the row, this worker's late answer changes nothing.
    4. A transient failure schedules the next attempt (backoff with jitter, never before
       Retry-After) until ``NOTIFY_MAX_ATTEMPTS``; a permanent failure goes dead at once.
    """
    now = _now()
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return Outcome.SKIPPED
    if delivery.status in SENDABLE and _earlier_page_pending(delivery):
        later = now + timedelta(seconds=1)
        moved = Delivery.objects.filter(
            pk=delivery_id, status__in=SENDABLE, next_attempt_at__lte=now
        ).update(next_attempt_at=later)
        if moved == 1:
            with transaction.atomic():
                _schedule_next(delivery_id, later)
            return Outcome.WAITING
        return Outcome.SKIPPED
    claimed = Delivery.objects.filter(_claimable(now), pk=delivery_id).update(
        status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if claimed != 1:
        return Outcome.SKIPPED
    delivery.refresh_from_db()
    try:
        sent = _send(delivery)
    except DeliveryError as exc:
        return _record_failure(delivery, exc, claimed_at=now)
    except Exception as exc:  # a bug or an unexpected library error: retry, and show it
        logger.exception("Delivery %s failed unexpectedly", delivery_id)
        return _record_failure(
            delivery, TransientError(f"Unexpected error: {exc!r}"), claimed_at=now
        )
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING, claimed_at=now).update(
        status=DeliveryStatus.SENT,
        sent_at=_now(),
        external_id=sent.external_id[:255],
        last_error="",
    )
    return Outcome.SENT


def _record_failure(delivery: Delivery, exc: DeliveryError, *, claimed_at: datetime) -> Outcome:
    now = _now()
    attempts = delivery.attempts
    message = f"Attempt {attempts}: {exc.message}"[:2000]
    mine = Delivery.objects.filter(
        pk=delivery.pk, status=DeliveryStatus.SENDING, claimed_at=claimed_at
    )
    if isinstance(exc, PermanentError) or attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        if isinstance(exc, TransientError):
            message += f" Gave up after {attempts} attempts."
        mine.update(status=DeliveryStatus.DEAD, last_error=message)
        logger.warning("Delivery %s is dead: %s", delivery.pk, message)
        return Outcome.DEAD
    retry_after = exc.retry_after if isinstance(exc, TransientError) else None
    wait = retry_delay(
        attempts,
        base=float(settings.NOTIFY_BACKOFF_SECONDS),
        cap=float(settings.NOTIFY_BACKOFF_CAP_SECONDS),
        retry_after=retry_after,
    )
    next_at = now + timedelta(seconds=wait)
    with transaction.atomic():
        if mine.update(status=DeliveryStatus.FAILED, last_error=message, next_attempt_at=next_at):
            _schedule_next(delivery.pk, next_at)
    return Outcome.RETRY


def outbox_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    """Enqueue deliveries whose task was lost: a worker killed mid-send (lease expired), or a
    crash between commit and enqueue. Returns how many were enqueued; duplicates are harmless."""
    now = now or _now()
    lease = timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
    stale = Q(status=DeliveryStatus.SENDING, claimed_at__lte=now - lease) | Q(
        status__in=SENDABLE, next_attempt_at__lte=now - lease
    )
    ids = list(Delivery.objects.filter(stale).order_by("id").values_list("id", flat=True)[:limit])
    from backline.notify import tasks

    for delivery_id in ids:
        tasks.deliver.enqueue(delivery_id)
    return len(ids)


@transaction.atomic
def delivery_retry(*, actor: User, delivery_id: int) -> Delivery:
    """An admin sends a dead (or waiting-to-retry) delivery again now, with a fresh attempt count.

    The destination is re-read from its channel, so fixing a channel's webhook and retrying works.
    """
    require(actor, Action.OUTBOX_RETRY)
    delivery = Delivery.objects.select_related("channel_config").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id}.")
    target = delivery.target
    if delivery.channel_config is not None and delivery.channel_config.enabled:
        target = delivery.channel_config.target
    now = _now()
    moved = Delivery.objects.filter(
        pk=delivery.pk, status__in=(DeliveryStatus.FAILED, DeliveryStatus.DEAD)
    ).update(status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=now, target=target)
    if moved != 1:
        raise Conflict(
            f"Delivery {delivery_id} is {delivery.get_status_display()}; only dead or failed "
            "deliveries can be retried.",
            allowed=[DeliveryStatus.DEAD, DeliveryStatus.FAILED],
        )
    audit_record(
        actor=actor,
        action="notify.delivery.retry",
        detail={"delivery": delivery.pk, "previous_error": delivery.last_error[:500]},
    )
    _schedule_next(delivery.pk, now)
    delivery.refresh_from_db()
    return delivery


# ---------------------------------------------------------------------------------------------
# Channels and rules.


def _validation_fields(exc: ValidationError) -> dict[str, list[str]]:
    return {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}


def _clean(obj: Channel | NotificationRule, exclude: Sequence[str] = ()) -> None:
    try:
        obj.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        fields = _validation_fields(exc)
        summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
        raise InvalidInput(f"Please correct: {summary}", fields) from None


CHANNEL_FIELDS = (
    "kind",
    "name",
    "role",
    "user",
    "webhook_url",
    "routing_key",
    "addresses",
    "enabled",
)


@transaction.atomic
def channel_save(
    *, actor: User, fields: Mapping[str, Any], channel: Channel | None = None
) -> Channel:
    """Create or change a channel; a malformed webhook URL, routing key or address is refused."""
    require(actor, Action.CHANNEL_MANAGE)
    unknown = sorted(set(fields) - set(CHANNEL_FIELDS))
    if unknown:
        raise InvalidInput(
            f"Unknown fields: {', '.join(unknown)}.", {n: ["Unknown field."] for n in unknown}
        )
    channel = channel or Channel()
    for name, value in fields.items():
        setattr(channel, name, value.strip() if isinstance(value, str) else value)
    _clean(channel)
    channel.save()
    audit_record(
        actor=actor,
        action="notify.channel.save",
        detail={"channel": channel.pk, "name": channel.name, "kind": channel.kind},
    )
    return channel


@transaction.atomic
def channel_delete(*, actor: User, channel: Channel) -> None:
    require(actor, Action.CHANNEL_MANAGE)
    audit_record(
        actor=actor,
        action="notify.channel.delete",
        detail={"channel": channel.pk, "name": channel.name},
    )
    channel.delete()


@transaction.atomic
def rule_save(
    *,
    user: User,
    event: str,
    channels: Sequence[str],
    quiet_start: Any = None,
    quiet_end: Any = None,
) -> NotificationRule:
    """Create or replace the person's own rule for ``event``."""
    require(user, Action.NOTIFY_RULES_OWN)
    rule = NotificationRule.objects.filter(user=user, event=event).first() or NotificationRule(
        user=user, event=event
    )
    rule.channels = sorted(set(channels))
    rule.quiet_start = quiet_start
    rule.quiet_end = quiet_end
    _clean(rule, exclude=["user"])
    rule.save()
    return rule


@transaction.atomic
def rule_delete(*, user: User, rule_id: int) -> None:
    require(user, Action.NOTIFY_RULES_OWN)
    deleted, _ = NotificationRule.objects.filter(pk=rule_id, user=user).delete()
    if not deleted:
        raise NotFound(f"You have no notification rule {rule_id}.")


__all__ = [
    "PERSONAL_CHANNELS",
    "OnCallNow",
    "Outcome",
    "channel_delete",
    "channel_save",
    "delivery_attempt",
    "delivery_retry",
    "delivery_write",
    "notify_escalated_tier3",
    "notify_escalated_to_investigator",
    "notify_escalated_to_monitoring",
    "notify_handoff_acknowledged",
    "notify_handoff_reminder",
    "notify_handoff_report",
    "notify_oncall_gaps",
    "notify_sla",
    "on_ticket_event",
    "outbox_sweep",
    "rule_delete",
    "rule_save",
]


# --- a person's own Slack webhook -------------------------------------------------------------


@transaction.atomic
def personal_webhook_save(*, user: User, webhook_url: str) -> Channel:
    """Set the person's own Slack webhook; a malformed URL is refused with what is wrong."""
    require(user, Action.NOTIFY_RULES_OWN)
    channel = (
        Channel.objects.select_for_update()
        .filter(kind=ChannelKind.SLACK, user=user)
        .order_by("pk")
        .first()
    ) or Channel(kind=ChannelKind.SLACK, user=user, name=f"Slack DM @{user.username}"[:100])
    channel.webhook_url = webhook_url.strip()
    channel.enabled = True
    try:
        channel.full_clean()
    except ValidationError as exc:
        fields = {name: [str(m) for m in msgs] for name, msgs in exc.message_dict.items()}
        raise InvalidInput(
            "Please correct: " + " ".join(" ".join(m) for m in fields.values()), fields
        ) from None
    channel.save()
    audit_record(
        actor=user,
        action="notify.channel.save",
        detail={"channel": channel.pk, "name": channel.name, "kind": channel.kind},
    )
    return channel


@transaction.atomic
def personal_webhook_delete(*, user: User) -> int:
    """Remove the person's own Slack webhooks; returns how many there were."""
    require(user, Action.NOTIFY_RULES_OWN)
    mine = list(Channel.objects.filter(kind=ChannelKind.SLACK, user=user))
    for channel in mine:
        audit_record(
            actor=user,
            action="notify.channel.delete",
            detail={"channel": channel.pk, "name": channel.name},
        )
        channel.delete()
    return len(mine)
