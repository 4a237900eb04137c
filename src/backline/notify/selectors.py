"""Reads of the notify app, for the API and the UI (outbox page, notification settings)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.errors import InvalidInput, NotFound
from backline.notify.models import (
    PERSONAL_CHANNELS,
    PERSONAL_EVENTS,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Event,
    NotificationRule,
)


@dataclass(frozen=True)
class OutboxFilters:
    status: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    event: tuple[str, ...] = ()
    ticket: str = ""  # ticket number


def _check(name: str, values: tuple[str, ...], allowed: list[str]) -> None:
    bad = [v for v in values if v not in allowed]
    if bad:
        raise InvalidInput(
            f"Unknown {name}: {', '.join(bad)}.", {name: [f"Choose from {', '.join(allowed)}."]}
        )


def outbox_for_admin(*, user: User, filters: OutboxFilters) -> QuerySet[Delivery]:
    """The outbox, newest first, filtered in the database (two queries per page, any size)."""
    require(user, Action.OUTBOX_VIEW)
    _check("status", filters.status, DeliveryStatus.values)
    _check("channel", filters.channel, ChannelKind.values)
    _check("event", filters.event, Event.values)
    qs = Delivery.objects.select_related("ticket", "recipient", "channel_config")
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.channel:
        qs = qs.filter(channel__in=filters.channel)
    if filters.event:
        qs = qs.filter(event__in=filters.event)
    if filters.ticket:
        qs = qs.filter(ticket__number__iexact=filters.ticket.strip())
    return qs.order_by("-created_at", "-id")


def delivery_for_admin(*, user: User, delivery_id: int) -> Delivery:
    require(user, Action.OUTBOX_VIEW)
    delivery = (
        Delivery.objects.select_related("ticket", "recipient", "channel_config")
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id}.")
    return delivery


def outbox_counts(*, user: User) -> dict[str, int]:
    """How many deliveries are in each status (for the outbox page's summary line)."""
    require(user, Action.OUTBOX_VIEW)
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    for row in Delivery.objects.order_by().values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def channels_for_admin(*, user: User) -> QuerySet[Channel]:
    require(user, Action.CHANNEL_MANAGE)
    return Channel.objects.select_related("user").order_by("kind", "name")


def channel_for_admin(*, user: User, channel_id: int) -> Channel:
    channel = channels_for_admin(user=user).filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(f"No channel {channel_id}.")
    return channel


@dataclass(frozen=True)
class RuleView:
    """One event in a person's settings: their rule, or the default when they have none."""

    event: str
    label: str
    channels: tuple[str, ...]
    quiet_start: str | None
    quiet_end: str | None
    rule_id: int | None


def rules_for_user(*, user: User) -> list[RuleView]:
    """Every event a person can choose channels for, with their choice or the default."""
    require(user, Action.NOTIFY_RULES_OWN)
    mine = {r.event: r for r in NotificationRule.objects.filter(user=user)}
    views = []
    for event in PERSONAL_EVENTS:
        rule = mine.get(event)
        views.append(
            RuleView(
                event=str(event),
                label=Event(event).label,
                channels=tuple(rule.channels) if rule else tuple(str(c) for c in PERSONAL_CHANNELS),
                quiet_start=rule.quiet_start.strftime("%H:%M")
                if rule and rule.quiet_start
                else None,
                quiet_end=rule.quiet_end.strftime("%H:%M") if rule and rule.quiet_end else None,
                rule_id=rule.pk if rule else None,
            )
        )
    return views


def rule_for_user(*, user: User, rule_id: int) -> NotificationRule:
    require(user, Action.NOTIFY_RULES_OWN)
    rule = NotificationRule.objects.filter(pk=rule_id, user=user).first()
    if rule is None:
        raise NotFound(f"You have no notification rule {rule_id}.")
    return rule
