from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models

from backline.calendars.models import Calendar
from backline.tickets.choices import (
    OPEN_STATUSES,
    TRANSITIONS,
    Area,
    Credential,
    EntryCriterion,
    Priority,
    RootCause,
    SlaState,
    Status,
    Tier,
    Upstream,
)

AT_RISK_FRACTION = 0.75


class SlaPolicy(models.Model):
    """Targets for one priority, counted in business minutes on a calendar."""

    priority = models.CharField(max_length=10, choices=Priority.choices, unique=True)
    acknowledge_minutes = models.PositiveIntegerField()
    resolve_minutes = models.PositiveIntegerField()
    calendar = models.ForeignKey(Calendar, on_delete=models.PROTECT, related_name="sla_policies")

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return f"{self.get_priority_display()}: {self.acknowledge_minutes} / {self.resolve_minutes} min"


class Ticket(models.Model):
    number = models.CharField(max_length=20, unique=True, blank=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER1)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="created_tickets"
    )
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="escalated_tickets",
    )

    # Escalation context (the team's escalation template).
    affected_user_id = models.CharField(
        "affected user identifier",
        max_length=64,
        blank=True,
        help_text="ICN, user UUID or EDIPI of the portal user. Protected: masked and audited.",
    )
    area = models.CharField(max_length=20, choices=Area.choices, default=Area.OTHER)
    suspected_upstream = models.CharField(
        max_length=20, choices=Upstream.choices, default=Upstream.UNKNOWN
    )
    occurred_at = models.DateTimeField(null=True, blank=True)
    occurred_until = models.DateTimeField(null=True, blank=True)
    device = models.CharField(max_length=100, blank=True)
    browser = models.CharField(max_length=100, blank=True)
    os = models.CharField("operating system", max_length=100, blank=True)
    credential = models.CharField(max_length=10, choices=Credential.choices, blank=True)
    oracle_health_site = models.BooleanField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    external_refs = models.JSONField(default=list, blank=True)
    steps_to_reproduce = models.TextField(blank=True)
    expected_behaviour = models.TextField(blank=True)
    actual_behaviour = models.TextField(blank=True)
    troubleshooting_steps = models.JSONField(default=list, blank=True)
    entry_criterion = models.CharField(max_length=30, choices=EntryCriterion.choices, blank=True)
    waiting_on = models.CharField(max_length=100, blank=True)

    # Resolution.
    resolution_summary = models.TextField(blank=True)
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    workaround = models.TextField(blank=True)
    code_change_needed = models.BooleanField(null=True, blank=True)
    follow_up_url = models.URLField(max_length=500, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    # SLA clock: see tickets/sla.py and docs/sla-calendars.md. Targets are frozen on the ticket when
    # the clock starts or the priority changes, so editing a policy never moves a running clock.
    sla_started_at = models.DateTimeField(null=True, blank=True)
    sla_calendar = models.ForeignKey(
        Calendar, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ack_target_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolve_target_minutes = models.PositiveIntegerField(null=True, blank=True)
    ack_due_at = models.DateTimeField(null=True, blank=True)
    ack_risk_at = models.DateTimeField(null=True, blank=True)
    resolve_due_at = models.DateTimeField(null=True, blank=True)
    resolve_risk_at = models.DateTimeField(null=True, blank=True)
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    next_risk_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    ack_breached = models.BooleanField(default=False)
    resolve_breached = models.BooleanField(default=False)

    class Meta:
        ordering = ["next_due_at", "id"]
        indexes = [
            models.Index(fields=["tier", "status"]),
            models.Index(fields=["assignee", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    def allowed_transitions(self) -> list[str]:
        return sorted(TRANSITIONS[self.status])

    def sla_state(self, now: datetime) -> SlaState:
        """The state of the target that matters now: acknowledgement first, then resolution."""
        if self.sla_started_at is None:
            return SlaState.NOT_STARTED
        if self.ack_breached or self.resolve_breached:
            return SlaState.BREACHED
        if not self.is_open:
            return SlaState.MET
        if self.is_paused:
            return SlaState.PAUSED
        if self.next_due_at is not None and now >= self.next_due_at:
            return SlaState.BREACHED
        if self.next_risk_at is not None and now >= self.next_risk_at:
            return SlaState.AT_RISK
        return SlaState.ON_TRACK

    def next_target(self) -> str:
        return "acknowledgement" if self.acknowledged_at is None else "resolution"


class TicketPause(models.Model):
    """A period when the SLA clock stood still (waiting on the requester or a partner)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=20, choices=Status.choices)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.ticket_id} paused {self.started_at} - {self.ended_at}"

    def interval(self, now: datetime) -> tuple[datetime, datetime]:
        return self.started_at, self.ended_at or now


class TimelineImmutableError(Exception):
    pass


class TimelineKind(models.TextChoices):
    CREATED = "created", "Created"
    ESCALATED = "escalated", "Escalated"
    STATUS = "status", "Status changed"
    PRIORITY = "priority", "Priority changed"
    ASSIGNED = "assigned", "Assigned"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    COMMENT = "comment", "Comment"
    SENT_BACK = "sent_back", "Sent back with a question"
    ANSWERED = "answered", "Answered"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    ROUTING = "routing", "Routing decision"
    SLA = "sla", "SLA"


class TimelineEntry(models.Model):
    """One immutable line of a ticket's history: who, when, what, old -> new."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="timeline")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=TimelineKind.choices)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    internal = models.BooleanField(
        default=False, help_text="Visible to Tier 3 and up only (engineering notes)."
    )
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.at}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TimelineImmutableError("Timeline entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TimelineImmutableError("Timeline entries cannot be deleted.")


def minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)
