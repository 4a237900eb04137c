"""Writes to the audit log. Call inside the transaction of the action being audited."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings

from backline.accounts.models import User
from backline.audit.models import AuditEvent


def subject_digest(identifier: str) -> str:
    """A keyed hash of a patient identifier: equal identifiers give equal digests, nothing reversible."""
    normalised = identifier.strip().upper()
    if not normalised:
        return ""
    key = settings.SECRET_KEY.encode()
    return hashlib.blake2b(normalised.encode(), key=key[:64], digest_size=32).hexdigest()


def audit_record(
    *,
    actor: User | None,
    action: str,
    subject: str = "",
    ticket_number: str = "",
    reason: str = "",
    query: str = "",
    result_count: int | None = None,
    unmasked: bool = False,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=actor,
        action=action,
        subject_digest=subject_digest(subject) if subject else "",
        ticket_number=ticket_number,
        reason=reason,
        query=query,
        result_count=result_count,
        unmasked=unmasked,
        detail=detail or {},
    )
