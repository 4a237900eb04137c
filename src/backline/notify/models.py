"""Notification tables: configured channels, per-person rules, the outbox, and timer bookkeeping.

The notify app owns these tables and reads tickets and people; it never writes to a ticket.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from backline.accounts.roles import ROLE_CHOICES
from backline.notify.channels import email as email_channel
from backline.notify.channels import pagerduty as pagerduty_channel
from backline.notify.channels import slack as slack_channel


class ChannelKind(models.TextChoices):
    SLACK = "slack", "Slack"
    PAGERDUTY = "pagerduty", "PagerDuty"
    EMAIL = "email", "Email"


class Event(models.TextChoices):
    ESCALATED_TIER3 = "escalated_tier3", "Ticket escalated to Tier 3"
    AFTER_HOURS_PAGE = "after_hours_page", "Critical ticket outside coverage (page)"
    SLA_ACK_AT_RISK = "sla_ack_at_risk", "Acknowledgement SLA at risk"
    SLA_ACK_BREACHED = "sla_ack_breached", "Acknowledgement SLA breached"
    SLA_RESOLVE_AT_RISK = "sla_resolve_at_risk", "Resolution SLA at risk"
    SLA_RESOLVE_BREACHED = "sla_resolve_breached", "Resolution SLA breached"
    ALERT_ACKNOWLEDGED = "alert_acknowledged", "Page acknowledged in Backline"
    ALERT_RESOLVED = "alert_resolved", "Page resolved in Backline"
    ESCALATED_MONITORING = "escalated_monitoring", "Escalated to Monitoring on-call"
    ESCALATED_INVESTIGATOR = "escalated_investigator", "Escalated to Investigator on-call"
    HANDOFF_REMINDER = "handoff_reminder", "Handoff reminder"
    HANDOFF_REPORT = "handoff_report", "Handoff report"
    HANDOFF_ACKNOWLEDGED = "handoff_acknowledged", "Handoff acknowledged"
    ONCALL_GAP = "oncall_gap", "On-call gap ahead"
    INCIDENT_PROPOSED = "incident_proposed", "Incident proposed by detection"


# The events a person can choose channels for (the rest go to teams or PagerDuty only).
PERSONAL_EVENTS = (
    Event.ESCALATED_TIER3,
    Event.SLA_ACK_AT_RISK,
    Event.SLA_ACK_BREACHED,
    Event.SLA_RESOLVE_AT_RISK,
    Event.SLA_RESOLVE_BREACHED,
    Event.ESCALATED_INVESTIGATOR,
    Event.HANDOFF_REMINDER,
    Event.HANDOFF_ACKNOWLEDGED,
    Event.ONCALL_GAP,
)
PERSONAL_CHANNELS = (ChannelKind.SLACK, ChannelKind.EMAIL)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (will retry)"
    DEAD = "dead", "Dead (gave up)"


class Channel(models.Model):
    """A configured destination: a Slack webhook, a PagerDuty service, or an email list.

    ``role`` says whose team channel or service it is (the Tier 3 team channel
    ``#mhv-tier-3-support``, the Monitoring PagerDuty service); ``user`` makes it one person's own
    (their Slack direct-message webhook). Secrets (webhook URLs, routing keys) are never shown in
    full outside the admin.
    """

    kind = models.CharField(max_length=20, choices=ChannelKind.choices)
    name = models.CharField(max_length=100, unique=True, help_text="e.g. #mhv-tier-3-support")
    role = models.CharField(max_length=20, choices=ROLE_CHOICES, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notify_channels",
    )
    webhook_url = models.CharField(max_length=500, blank=True)
    routing_key = models.CharField(max_length=32, blank=True)
    addresses = models.TextField(blank=True, help_text="Email addresses, one per line or commas.")
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"

    def clean(self) -> None:
        """Refuse a malformed webhook URL, routing key or address now, not at 3 a.m."""
        errors: dict[str, list[str]] = {}
        if self.kind == ChannelKind.SLACK:
            problem = slack_channel.webhook_url_problem(
                self.webhook_url, allowed_hosts=settings.NOTIFY_SLACK_WEBHOOK_HOSTS
            )
            if problem:
                errors["webhook_url"] = [problem]
        elif self.kind == ChannelKind.PAGERDUTY:
            problem = pagerduty_channel.routing_key_problem(self.routing_key)
            if problem:
                errors["routing_key"] = [problem]
            if self.user_id is not None:
                errors["user"] = ["A PagerDuty service pages a rotation, not one person."]
        elif self.kind == ChannelKind.EMAIL:
            addresses = self.address_list()
            if not addresses:
                errors["addresses"] = ["List at least one email address."]
            elif problems := email_channel.address_problems(addresses):
                errors["addresses"] = problems
        else:
            errors["kind"] = ["Choose slack, pagerduty or email."]
        if self.user_id is not None and self.role:
            errors["role"] = ["A channel belongs to a role's team or to one person, not both."]
        if errors:
            raise ValidationError(errors)

    def address_list(self) -> list[str]:
        return email_channel.split_addresses(self.addresses)

    @property
    def target(self) -> str:
        """The secret-bearing destination the adapter needs."""
        if self.kind == ChannelKind.SLACK:
            return self.webhook_url.strip()
        if self.kind == ChannelKind.PAGERDUTY:
            return self.routing_key.strip()
        return ",".join(self.address_list())

    @property
    def target_display(self) -> str:
        return mask_target(str(self.kind), self.target)


def mask_target(kind: str, target: str) -> str:
    """A destination as it may be shown to admins: webhook and routing-key secrets cut."""
    if kind == ChannelKind.SLACK:
        return slack_channel.mask_webhook_url(target)
    if kind == ChannelKind.PAGERDUTY:
        return pagerduty_channel.mask_routing_key(target)
    return target


class NotificationRule(models.Model):
    """One person's choice for one event: which channels, and quiet hours in their time zone.

    Quiet hours hold back Slack and email to this person until the window ends; they never hold
    back anything about a Critical ticket, and never apply to PagerDuty pages or team channels.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    event = models.CharField(max_length=40, choices=Event.choices)
    channels = models.JSONField(default=list, blank=True)  # subset of PERSONAL_CHANNELS
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "event"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event"], name="notify_rule_unique_event")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.event}: {', '.join(self.channels) or 'nothing'}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.event not in PERSONAL_EVENTS:
            errors["event"] = [
                f"Choose one of {', '.join(PERSONAL_EVENTS)}; the other events go to teams."
            ]
        channels = self.channels if isinstance(self.channels, list) else None
        if channels is None or any(c not in PERSONAL_CHANNELS for c in channels):
            errors["channels"] = ["Choose from slack and email (an empty list means none)."]
        if (self.quiet_start is None) != (self.quiet_end is None):
            errors["quiet_end"] = ["Give both ends of the quiet hours, or neither."]
        elif self.quiet_start is not None and self.quiet_start == self.quiet_end:
            errors["quiet_end"] = ["Quiet hours must not start and end at the same time."]
        if errors:
            raise ValidationError(errors)

    def quiet_until(self, now: datetime, tz: str) -> datetime | None:
        """The end of the quiet window containing ``now`` (aware), or None when not quiet now."""
        if self.quiet_start is None or self.quiet_end is None:
            return None
        return quiet_window_end(now, self.quiet_start, self.quiet_end, tz)


def quiet_window_end(now: datetime, start: time, end: time, tz: str) -> datetime | None:
    """End of the daily local window [start, end) containing ``now``; windows may span midnight."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    clock = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= clock < end
        end_day = local.date()
    else:  # spans midnight, e.g. 22:00-07:00
        inside = clock >= start or clock < end
        end_day = local.date() + timedelta(days=1) if clock >= start else local.date()
    if not inside:
        return None
    # A wall time that a DST change skips resolves forwards (fold=0 then normalise via UTC).
    return datetime.combine(end_day, end, tzinfo=zone).astimezone(ZoneInfo("UTC"))


class Delivery(models.Model):
    """One notification to one destination: the outbox row, written with the event that caused it.

    ``key`` makes writing idempotent (a timer that runs twice writes one row); ``dedup_key`` is the
    channel's own duplicate suppression (PagerDuty's), so a repeated send lands on the same alert.
    """

    event = models.CharField(max_length=40, choices=Event.choices)
    channel = models.CharField(max_length=20, choices=ChannelKind.choices)
    target = models.CharField(max_length=1000, help_text="Webhook URL, routing key or addresses.")
    channel_config = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deliveries",
    )
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    external_id = models.CharField(max_length=255, blank=True)
    dedup_key = models.CharField(max_length=255, blank=True, db_index=True)
    key = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["ticket", "channel"]),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} #{self.pk} ({self.status})"

    @property
    def target_display(self) -> str:
        return mask_target(self.channel, self.target)


class TimerKind(models.TextChoices):
    ACK_RISK = "ack_risk", "Acknowledgement at risk"
    ACK_DUE = "ack_due", "Acknowledgement breached"
    RESOLVE_RISK = "resolve_risk", "Resolution at risk"
    RESOLVE_DUE = "resolve_due", "Resolution breached"


class SlaTimer(models.Model):
    """The moment an SLA notification is scheduled for, per ticket and kind.

    A timer task carries the moment it was scheduled for and fires only while this row still
    holds that moment, not yet fired; rescheduling moves ``due_at``, cancelling clears it.
    """

    ticket = models.ForeignKey("tickets.Ticket", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=TimerKind.choices)
    due_at = models.DateTimeField(null=True, blank=True)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind"], name="notify_timer_unique_kind")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} at {self.due_at}"


class Clock(models.Model):
    """A self-rescheduling background job (the outbox sweep, the on-call gap check).

    Each run carries the moment it was scheduled for and only the run matching ``due_at`` may
    schedule the next one, so a duplicate chain dies out instead of doubling.
    """

    name = models.CharField(max_length=40, unique=True)
    due_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} next at {self.due_at}"
