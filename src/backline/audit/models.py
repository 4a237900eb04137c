from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class AuditImmutableError(Exception):
    """Raised on any attempt to change or delete an audit row through the application."""


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise AuditImmutableError("Audit rows cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("Audit rows cannot be deleted.")


class AuditEvent(models.Model):
    """One audited action. Append-only: update() and delete() raise."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    action = models.CharField(max_length=64, db_index=True)
    # A patient identifier touched by the action, hashed so the audit log is not itself a leak,
    # but still searchable by an admin who types the identifier.
    subject_digest = models.CharField(max_length=64, blank=True, db_index=True)
    ticket_number = models.CharField(max_length=20, blank=True, db_index=True)
    reason = models.TextField(blank=True)
    query = models.TextField(blank=True)
    result_count = models.IntegerField(null=True)
    unmasked = models.BooleanField(default=False)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditImmutableError("Audit rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditImmutableError("Audit rows cannot be deleted.")
