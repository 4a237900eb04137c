"""Evidence pinned to a ticket: frozen copies of log events with the query that found them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from backline.tickets.models import Ticket


class PinnedEvidence(models.Model):
    """Events copied from the log source when pinned, so later retention or edits cannot change them.

    The events are stored as fetched (identifiers included) and are always shown through the same
    masking rules as live logs. Unpinning hides the row (``removed_at``) rather than deleting it:
    the ticket's timeline already says it was pinned.
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="evidence")
    events = models.JSONField(default=list)
    request_id = models.CharField(max_length=100, blank=True)
    query = models.TextField()
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    summary = models.CharField(max_length=300)  # masked: safe to show to anyone who sees the ticket
    note = models.TextField(blank=True)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    pinned_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["pinned_at", "id"]
        verbose_name_plural = "pinned evidence"

    def __str__(self) -> str:
        return f"{self.ticket_id} evidence {self.pk}: {self.summary}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    def event_dicts(self) -> list[dict[str, Any]]:
        return [e for e in self.events if isinstance(e, dict)]
