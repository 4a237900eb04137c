"""What each role may do, decided in one place.

Every view, API endpoint and service asks ``can(user, action)`` or ``require(user, action)``; no
other module compares role names. The matrix is data so that a test can walk all of it and a
reviewer can read it in one screen.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from backline.accounts.roles import Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from backline.accounts.models import User


class Action(StrEnum):
    TICKET_VIEW = "ticket.view"
    TICKET_CREATE = "ticket.create"
    TICKET_ESCALATE_TIER2 = "ticket.escalate_tier2"
    TICKET_ESCALATE_TIER3 = "ticket.escalate_tier3"
    TICKET_ANSWER = "ticket.answer"  # Tier 2 answers Tier 3's question
    TICKET_ACKNOWLEDGE = "ticket.acknowledge"
    TICKET_WORK = "ticket.work"  # status changes, send back, resolve, assign at Tier 3
    TICKET_REPRIORITISE = "ticket.reprioritise"
    TICKET_REOPEN = "ticket.reopen"
    TICKET_CANCEL = "ticket.cancel"
    COMMENT_SHARED = "comment.shared"
    COMMENT_INTERNAL = "comment.internal"  # read and write Tier 3 internal notes
    IDENTIFIER_REVEAL = "identifier.reveal"  # see a patient identifier unmasked (audited)
    SLA_VIEW = "sla.view"
    SLA_MANAGE = "sla.manage"
    AUDIT_VIEW = "audit.view"
    TOKEN_MANAGE_OWN = "token.manage_own"
    NOTIFY_RULES_OWN = "notify.rules_own"  # one's own notification rules and quiet hours
    CHANNEL_MANAGE = "notify.channel_manage"  # Slack webhooks, PagerDuty services, email lists
    OUTBOX_VIEW = "notify.outbox_view"
    OUTBOX_RETRY = "notify.outbox_retry"
    ONCALL_VIEW = "oncall.view"  # schedules, who is on call, gaps, fairness, calendar feeds
    ROTATION_MANAGE = "rotation.manage"
    OVERRIDE_OWN = "override.own"  # cover or swap one's own shifts (the service checks whose)
    OVERRIDE_ANY = "override.any"
    HANDOFF_VIEW = "handoff.view"
    HANDOFF_ACT = "handoff.act"  # notes (outgoing) and acknowledgement (incoming)
    LOGS_SEARCH = "logs.search"  # search application logs (Tier 2 sees identifiers masked)
    HEALTH_VIEW = "health.view"  # upstream health dashboards and cohort figures (aggregates only)
    INGEST_KEY_MANAGE = "ingest_key.manage"  # keys that may send logs to the intake
    # Unmask logs with a typed justification instead of a ticket (audited with the reason).
    LOGS_UNMASK_JUSTIFIED = "logs.unmask_justified"
    PATTERNS_VIEW = "patterns.view"  # error signatures, counts, recommendations (aggregates only)
    INCIDENT_VIEW = "incident.view"
    INCIDENT_OPEN = "incident.open"  # escalate a ticket into an incident, confirm a proposed one
    INCIDENT_RESOLVE = "incident.resolve"
    ESCALATION_SETTINGS = "escalation.settings"  # rule thresholds


_SUPPORT = frozenset(Role)
_ENGINEERING = frozenset({Role.TIER3, Role.MONITORING, Role.INVESTIGATOR})
_LEADS = frozenset({Role.MANAGER, Role.ADMIN})

MATRIX: dict[Action, frozenset[Role]] = {
    Action.TICKET_VIEW: _SUPPORT,
    Action.TICKET_CREATE: _SUPPORT,
    Action.TICKET_ESCALATE_TIER2: frozenset({Role.TIER1, Role.TIER2}) | _LEADS,
    Action.TICKET_ESCALATE_TIER3: frozenset({Role.TIER2}) | _LEADS,
    Action.TICKET_ANSWER: frozenset({Role.TIER2}) | _LEADS,
    Action.TICKET_ACKNOWLEDGE: _ENGINEERING,
    Action.TICKET_WORK: _ENGINEERING | _LEADS,
    Action.TICKET_REPRIORITISE: frozenset({Role.TIER2}) | _ENGINEERING | _LEADS,
    Action.TICKET_REOPEN: frozenset({Role.TIER2}) | _ENGINEERING | _LEADS,
    Action.TICKET_CANCEL: frozenset({Role.TIER1, Role.TIER2}) | _LEADS,
    Action.COMMENT_SHARED: _SUPPORT,
    Action.COMMENT_INTERNAL: _ENGINEERING | _LEADS,
    Action.IDENTIFIER_REVEAL: _ENGINEERING | frozenset({Role.ADMIN}),
    Action.SLA_VIEW: _SUPPORT,
    Action.SLA_MANAGE: frozenset({Role.ADMIN}),
    Action.AUDIT_VIEW: frozenset({Role.ADMIN}),
    Action.TOKEN_MANAGE_OWN: _SUPPORT,
    Action.NOTIFY_RULES_OWN: _SUPPORT,
    Action.CHANNEL_MANAGE: frozenset({Role.ADMIN}),
    Action.OUTBOX_VIEW: frozenset({Role.ADMIN}),
    Action.OUTBOX_RETRY: frozenset({Role.ADMIN}),
    Action.ONCALL_VIEW: _SUPPORT,
    Action.ROTATION_MANAGE: _LEADS,
    Action.OVERRIDE_OWN: _ENGINEERING,
    Action.OVERRIDE_ANY: _LEADS,
    Action.HANDOFF_VIEW: _ENGINEERING | _LEADS,
    Action.HANDOFF_ACT: _ENGINEERING,
    # Tier 2 diagnoses with logs; Tier 1 sees none (patient data it has no need for).
    Action.LOGS_SEARCH: frozenset({Role.TIER2}) | _ENGINEERING | _LEADS,
    Action.HEALTH_VIEW: frozenset({Role.TIER2}) | _ENGINEERING | _LEADS,
    Action.INGEST_KEY_MANAGE: frozenset({Role.ADMIN}),
    Action.LOGS_UNMASK_JUSTIFIED: frozenset({Role.ADMIN}),
    Action.PATTERNS_VIEW: frozenset({Role.TIER2}) | _ENGINEERING | _LEADS,
    Action.INCIDENT_VIEW: _ENGINEERING | _LEADS,
    Action.INCIDENT_OPEN: _ENGINEERING | _LEADS,
    Action.INCIDENT_RESOLVE: _ENGINEERING | _LEADS,
    Action.ESCALATION_SETTINGS: frozenset({Role.ADMIN}),
}


def can(user: User | AnonymousUser | None, action: Action) -> bool:
    """True when one of the person's roles allows ``action``. Signed-out people may do nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    roles: frozenset[Role] = user.roles
    return bool(roles & MATRIX[action])


def require(user: User | AnonymousUser | None, action: Action) -> None:
    """Raise PermissionDenied naming the action when the person may not do it."""
    if not can(user, action):
        raise PermissionDenied(f"Your roles do not allow this action ({action.value}).")
