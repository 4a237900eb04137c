"""API: ``/api/v1/notify/``: one's own notification rules, channels (admins), the outbox (admins).

Thin: validate the shape, call a service or selector, return a schema. Secrets (webhook URLs,
routing keys) are never returned; they are shown cut (``https://hooks.slack.com/services/T1/B2/ab…``).
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status as HttpStatus
from pydantic import ConfigDict

from backline.accounts.models import User
from backline.errors import InvalidInput
from backline.notify import selectors, services
from backline.notify.models import Channel, Delivery

router = Router(tags=["notifications"])


class StrictIn(Schema):
    model_config = ConfigDict(extra="forbid")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


# --------------------------------------------------------------------------------------------
# Rules


class RuleIn(StrictIn):
    event: str = Field(description="One of the personal events, e.g. sla_ack_at_risk.")
    channels: list[str] = Field(description="Subset of ['slack', 'email']; empty means none.")
    quiet_start: time | None = Field(None, description="Local time (your time zone), HH:MM.")
    quiet_end: time | None = None


class RuleOut(Schema):
    event: str
    label: str
    channels: list[str]
    quiet_start: str | None
    quiet_end: str | None
    rule_id: int | None = Field(description="null: no rule of yours, the default applies.")


@router.get("/rules", response=list[RuleOut], summary="Your notification rules, one per event")
def list_rules(request: HttpRequest) -> list[selectors.RuleView]:
    return selectors.rules_for_user(user=_user(request))


@router.put("/rules", response=RuleOut, summary="Set your rule for one event (create or replace)")
def put_rule(request: HttpRequest, payload: RuleIn) -> selectors.RuleView:
    user = _user(request)
    services.rule_save(
        user=user,
        event=payload.event,
        channels=payload.channels,
        quiet_start=payload.quiet_start,
        quiet_end=payload.quiet_end,
    )
    return next(v for v in selectors.rules_for_user(user=user) if v.event == payload.event)


@router.delete("/rules/{rule_id}", response={204: None}, summary="Back to the default")
def delete_rule(request: HttpRequest, rule_id: int) -> HttpStatus[None]:
    services.rule_delete(user=_user(request), rule_id=rule_id)
    return HttpStatus(204, None)


# --------------------------------------------------------------------------------------------
# Channels


class ChannelIn(StrictIn):
    kind: str = Field(description="slack, pagerduty or email")
    name: str = Field(max_length=100)
    role: str = Field("", description="Whose team channel or service: tier3, monitoring ...")
    user: str | None = Field(None, description="Username, for one person's own Slack webhook.")
    webhook_url: str = ""
    routing_key: str = ""
    addresses: str = ""
    enabled: bool = True


class ChannelPatch(StrictIn):
    name: str | None = Field(None, max_length=100)
    role: str | None = None
    webhook_url: str | None = None
    routing_key: str | None = None
    addresses: str | None = None
    enabled: bool | None = None


class ChannelOut(Schema):
    id: int
    kind: str
    name: str
    role: str
    user: str | None
    target: str = Field(description="The destination with its secret cut.")
    enabled: bool


def _channel_out(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.pk,
        "kind": channel.kind,
        "name": channel.name,
        "role": channel.role,
        "user": channel.user.username if channel.user_id and channel.user else None,
        "target": channel.target_display,
        "enabled": channel.enabled,
    }


def _resolve_user(fields: dict[str, Any]) -> None:
    if "user" not in fields:
        return
    username = fields["user"]
    if not username:
        fields["user"] = None
        return
    found = User.objects.filter(username=username).first()
    if found is None:
        raise InvalidInput(f"No person {username!r}.", {"user": ["Unknown username."]})
    fields["user"] = found


@router.get("/channels", response=list[ChannelOut], summary="Configured channels (admins)")
def list_channels(request: HttpRequest) -> list[dict[str, Any]]:
    return [_channel_out(c) for c in selectors.channels_for_admin(user=_user(request))]


@router.post("/channels", response={201: ChannelOut}, summary="Add a channel (admins)")
def create_channel(request: HttpRequest, payload: ChannelIn) -> HttpStatus[dict[str, Any]]:
    fields = payload.model_dump()
    _resolve_user(fields)
    channel = services.channel_save(actor=_user(request), fields=fields)
    return HttpStatus(201, _channel_out(channel))


@router.patch("/channels/{channel_id}", response=ChannelOut, summary="Change a channel (admins)")
def update_channel(request: HttpRequest, channel_id: int, payload: ChannelPatch) -> dict[str, Any]:
    user = _user(request)
    channel = selectors.channel_for_admin(user=user, channel_id=channel_id)
    fields = payload.model_dump(exclude_unset=True)
    channel = services.channel_save(actor=user, fields=fields, channel=channel)
    return _channel_out(channel)


@router.delete("/channels/{channel_id}", response={204: None}, summary="Remove a channel")
def delete_channel(request: HttpRequest, channel_id: int) -> HttpStatus[None]:
    user = _user(request)
    services.channel_delete(
        actor=user, channel=selectors.channel_for_admin(user=user, channel_id=channel_id)
    )
    return HttpStatus(204, None)


# --------------------------------------------------------------------------------------------
# Outbox


class OutboxIn(Schema):
    status: str = Field("", description="Comma-separated: pending,sending,sent,failed,dead")
    channel: str = Field("", description="Comma-separated: slack,pagerduty,email")
    event: str = ""
    ticket: str = Field("", description="A ticket number, e.g. BL-1042")
    page: int = Field(1, ge=1)
    page_size: int = Field(25, ge=1, le=100)


class DeliveryOut(Schema):
    id: int
    event: str
    channel: str
    target: str
    channel_name: str | None
    recipient: str | None
    ticket: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    external_id: str
    dedup_key: str
    created_at: datetime
    sent_at: datetime | None
    payload: dict[str, Any]


class OutboxPageOut(Schema):
    count: int
    page: int
    page_size: int
    next: int | None
    previous: int | None
    counts: dict[str, int] = Field(description="Deliveries per status, all filters aside.")
    items: list[DeliveryOut]


def delivery_out(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "event": delivery.event,
        "channel": delivery.channel,
        "target": delivery.target_display,
        "channel_name": delivery.channel_config.name if delivery.channel_config else None,
        "recipient": delivery.recipient.username if delivery.recipient else None,
        "ticket": delivery.ticket.number if delivery.ticket else None,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_error": delivery.last_error,
        "external_id": delivery.external_id,
        "dedup_key": delivery.dedup_key,
        "created_at": delivery.created_at,
        "sent_at": delivery.sent_at,
        "payload": delivery.payload,
    }


@router.get("/outbox", response=OutboxPageOut, summary="The outbox, newest first (admins)")
def list_outbox(request: HttpRequest, filters: Query[OutboxIn]) -> dict[str, Any]:
    user = _user(request)
    queryset = selectors.outbox_for_admin(
        user=user,
        filters=selectors.OutboxFilters(
            status=_split(filters.status),
            channel=_split(filters.channel),
            event=_split(filters.event),
            ticket=filters.ticket,
        ),
    )
    count = queryset.count()
    start = (filters.page - 1) * filters.page_size
    rows = list(queryset[start : start + filters.page_size])
    return {
        "count": count,
        "page": filters.page,
        "page_size": filters.page_size,
        "next": filters.page + 1 if start + filters.page_size < count else None,
        "previous": filters.page - 1 if filters.page > 1 else None,
        "counts": selectors.outbox_counts(user=user),
        "items": [delivery_out(d) for d in rows],
    }


@router.get("/outbox/{delivery_id}", response=DeliveryOut, summary="One delivery (admins)")
def get_delivery(request: HttpRequest, delivery_id: int) -> dict[str, Any]:
    return delivery_out(selectors.delivery_for_admin(user=_user(request), delivery_id=delivery_id))


@router.post(
    "/outbox/{delivery_id}/retry", response=DeliveryOut, summary="Send a dead delivery again"
)
def retry_delivery(request: HttpRequest, delivery_id: int) -> dict[str, Any]:
    user = _user(request)
    services.delivery_retry(actor=user, delivery_id=delivery_id)
    return delivery_out(selectors.delivery_for_admin(user=user, delivery_id=delivery_id))
