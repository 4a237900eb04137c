"""Tables of the escalation app: incidents (problem records), their linked tickets, rule settings.

Rows are written only by ``escalation.services``. Evidence is stored masked: no raw patient
identifier ever reaches an incident (security incidents name the user by a masked token).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from backline.escalation.rules import Thresholds


class IncidentStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed by detection"
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


ACTIVE_STATUSES = (IncidentStatus.PROPOSED, IncidentStatus.OPEN)


class TargetRole(models.TextChoices):
    MONITORING = "monitoring", "Monitoring on-call"
    INVESTIGATOR = "investigator", "Investigator on-call"


class Severity(models.TextChoices):
    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"


class Incident(models.Model):
    """One problem shared by several tickets (or found before any ticket), like a Zendesk problem."""

    title = models.CharField(max_length=200)
    signatures = models.JSONField(default=list, blank=True)  # template ids
    detection_key = models.CharField(max_length=120, blank=True, db_index=True)
    status = models.CharField(
        max_length=10, choices=IncidentStatus.choices, default=IncidentStatus.OPEN
    )
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.HIGH)
    target_role = models.CharField(max_length=20, choices=TargetRole.choices)
    evidence = models.JSONField(default=dict, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    notified_delivery_ids = models.JSONField(default=list, blank=True)  # notify.Delivery ids
    paged = models.BooleanField(default=False)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    resolution = models.TextField(blank=True)
    root_cause = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One active incident per detected problem: detection running twice (or in two
            # workers) cannot propose the same thing twice.
            models.UniqueConstraint(
                fields=["detection_key"],
                condition=Q(status__in=["proposed", "open"]) & ~Q(detection_key=""),
                name="escalation_one_active_incident_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"INC-{self.pk} {self.title}"

    @property
    def number(self) -> str:
        return f"INC-{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def detected_at(self) -> datetime | None:
        """When continuous detection found it (None for an incident opened from a ticket)."""
        value = self.evidence.get("detected_at") if isinstance(self.evidence, dict) else None
        return datetime.fromisoformat(value) if value else None


class IncidentTicket(models.Model):
    """A ticket linked to an incident, and how it got there."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="links")
    ticket = models.ForeignKey(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="incident_links"
    )
    linked_at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["linked_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "ticket"], name="escalation_link_unique")
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} <- {self.ticket_id}"


class RuleSettings(models.Model):
    """The thresholds of the rules: one row, edited by admins; missing keys take the defaults."""

    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON)
    values = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The detection chain's clock: only the run scheduled for this moment schedules the next,
    # so a duplicated chain dies out instead of doubling.
    detection_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "rule settings"

    def __str__(self) -> str:
        return "escalation rule settings"

    def thresholds(self) -> Thresholds:
        return Thresholds.from_mapping(self.values)


class HotfixMark(models.Model):
    """An engineer's statement that a ticket's problem needs an immediate change or hotfix."""

    ticket = models.OneToOneField(
        "tickets.Ticket", on_delete=models.CASCADE, related_name="hotfix_mark"
    )
    marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    marked_at = models.DateTimeField(auto_now_add=True)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"hotfix needed for {self.ticket_id}"


def evidence_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
