"""On-call tables: rotations and their members, overrides, swaps, handoffs and calendar-feed tokens.

The schedule arithmetic is not here: `Rotation.to_schedule()` (in adapters.py) turns a row into a
`schedule.Rotation`, and every question about who is on call goes through the pure module.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import time

from django.conf import settings
from django.db import models

from backline.accounts.models import Team
from backline.accounts.roles import Role
from backline.calendars.models import Calendar


class OncallRole(models.TextChoices):
    TIER3 = "tier3", "Tier 3 support"
    MONITORING = "monitoring", "Monitoring"
    INVESTIGATOR = "investigator", "Investigator"

    @property
    def person_role(self) -> Role:
        """The account role a person needs to take turns in this on-call role."""
        return Role(self.value)


class ShiftUnit(models.TextChoices):
    WEEKS = "weeks", "Weeks"
    DAYS = "days", "Days"
    HOURS = "hours", "Hours"


WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


class Rotation(models.Model):
    """An ordered list of people taking turns for one on-call role, in one time zone."""

    name = models.CharField(max_length=100, unique=True)
    role = models.CharField(max_length=20, choices=OncallRole.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="rotations")
    time_zone = models.CharField(max_length=64, default="America/New_York")
    shift_unit = models.CharField(max_length=10, choices=ShiftUnit.choices, default=ShiftUnit.WEEKS)
    shift_count = models.PositiveSmallIntegerField(
        default=1, help_text="How many units one turn lasts (1 week, 2 days, 12 hours ...)."
    )
    handoff_weekday = models.PositiveSmallIntegerField(choices=WEEKDAYS, default=3)
    handoff_time = models.TimeField(default=time(9))
    start_date = models.DateField()
    coverage = models.ForeignKey(
        Calendar,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rotations",
        help_text="When the rotation is expected to answer; empty means round the clock.",
    )
    is_active = models.BooleanField(default=True)
    # The boundary the handoff task chain is waiting for; a conditional update on it lets exactly
    # one run of the task schedule the next one (see tasks.py).
    handoff_task_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["role", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def role_label(self) -> str:
        return OncallRole(self.role).label


class RotationMember(models.Model):
    """One person's place in a rotation's order (turn k belongs to position k mod n)."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="rotation_memberships"
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["rotation", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["rotation", "position"], name="unique_rotation_position"
            ),
            models.UniqueConstraint(fields=["rotation", "user"], name="unique_rotation_member"),
        ]

    def __str__(self) -> str:
        return f"{self.rotation} #{self.position}: {self.user}"


class SwapStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    CANCELED = "canceled", "Canceled"


class SwapRequest(models.Model):
    """One person asks another to take a window of their shifts, optionally taking one back.

    Accepting creates the overrides: counterpart covers the requester in [start, end), and when a
    return window is given the requester covers the counterpart in [return_start, return_end).
    """

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="swaps")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="swaps_requested"
    )
    counterpart = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="swaps_offered"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    return_start = models.DateTimeField(null=True, blank=True)
    return_end = models.DateTimeField(null=True, blank=True)
    message = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=SwapStatus.choices, default=SwapStatus.REQUESTED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Swap {self.pk}: {self.requester} <-> {self.counterpart} ({self.status})"


class Override(models.Model):
    """`person` is on call in [start, end) instead of the rotation (only while `replaces` is
    scheduled, when set). Among overlapping overrides the later-created one wins."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="overrides")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="oncall_overrides"
    )
    replaces = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="oncall_overridden",
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    swap = models.ForeignKey(
        SwapRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="overrides"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Creation order is precedence order: the schedule module lets the later one win.
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["rotation", "end"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="override_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person} on {self.rotation} {self.start:%Y-%m-%d %H:%M}"


class HandoffStatus(models.TextChoices):
    PENDING = "pending", "Waiting for acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    TRANSFERRED = "transferred", "Transferred after the grace period"


class Handoff(models.Model):
    """A Tier 3 rotation boundary: who hands over to whom, the report, and the ownership move."""

    rotation = models.ForeignKey(Rotation, on_delete=models.CASCADE, related_name="handoffs")
    at = models.DateTimeField()
    turn = models.IntegerField()
    outgoing = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_out"
    )
    incoming = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_in"
    )
    status = models.CharField(
        max_length=15, choices=HandoffStatus.choices, default=HandoffStatus.PENDING
    )
    report = models.JSONField(default=dict)
    report_markdown = models.TextField(blank=True)
    notes = models.TextField(blank=True, help_text="Written by the outgoing engineer.")
    notes_updated_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    transferred_at = models.DateTimeField(null=True, blank=True)
    transfer_trigger = models.CharField(max_length=20, blank=True)
    transferred_tickets = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "rotation_id"]
        constraints = [
            models.UniqueConstraint(fields=["rotation", "at"], name="unique_handoff_per_boundary")
        ]

    def __str__(self) -> str:
        return f"{self.rotation} {self.at:%Y-%m-%d %H:%M}: {self.outgoing} -> {self.incoming}"


def feed_digest(raw: str) -> str:
    # Feed secrets are long random strings, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(raw.encode()).hexdigest()


FEED_PREFIX = "blf_"


def new_feed_secret() -> str:
    return FEED_PREFIX + secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """A secret calendar-feed URL for one rotation or one person. Only its hash is stored."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oncall_feeds"
    )
    rotation = models.ForeignKey(
        Rotation, null=True, blank=True, on_delete=models.CASCADE, related_name="feeds"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(rotation__isnull=False, person__isnull=True)
                    | models.Q(rotation__isnull=True, person__isnull=False)
                ),
                name="feed_for_rotation_xor_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name or 'feed'} ({self.hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
