"""REST endpoints of the escalation app (``/api/v1/escalation/``): thin, over ``services``.

Every answer is masked: evidence is stored masked, pattern templates come from the miner (values
replaced by ``<*>``) or are redacted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.errors import InvalidInput
from backline.escalation import analysis, services
from backline.escalation.models import Incident
from backline.logs.services import get_source
from backline.tickets.selectors import ticket_for_user

router = Router(tags=["escalation"])

MAX_HOURS = 24 * 7


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _hours(hours: int) -> timedelta:
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(f"hours must be 1 to {MAX_HOURS}.", {"hours": ["Out of range."]})
    return timedelta(hours=hours)


def incident_json(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "number": incident.number,
        "title": incident.title,
        "status": incident.status,
        "severity": incident.severity,
        "target_role": incident.target_role,
        "signatures": list(incident.signatures),
        "opened_at": incident.opened_at.isoformat(),
        "opened_by": incident.opened_by.name if incident.opened_by else None,
        "paged": incident.paged,
        "notified_delivery_ids": list(incident.notified_delivery_ids),
        "tickets": [link.ticket.number for link in incident.links.all()],
        "resolution": incident.resolution,
        "root_cause": incident.root_cause,
        "resolved_at": incident.resolved_at.isoformat() if incident.resolved_at else None,
        "evidence": incident.evidence,
    }


@router.get("/tickets/{number}/recommendation")
def recommendation(request: HttpRequest, number: str) -> dict[str, Any]:
    """The recommendation for a ticket, with its evidence and the queries behind the numbers."""
    user = _user(request)
    ticket = ticket_for_user(user=user, number=number)
    found = services.ticket_recommendation(user=user, ticket=ticket)
    return {
        "ticket": ticket.number,
        "reason": found.reason,
        "evidence": found.evidence,
        "incidents": [incident_json(i) for i in found.incidents],
    }


class EscalateIn(Schema):
    target: str | None = None


@router.post("/tickets/{number}/escalate", response={201: dict[str, Any]})
def escalate(request: HttpRequest, number: str, payload: EscalateIn) -> Any:
    """One action: open (or join) an incident, link tickets, notify the target on-call."""
    user = _user(request)
    ticket = ticket_for_user(user=user, number=number)
    incident = services.incident_open_from_ticket(actor=user, ticket=ticket, target=payload.target)
    return Status(201, incident_json(incident))


class HotfixIn(Schema):
    note: str = ""


@router.post("/tickets/{number}/hotfix")
def hotfix(request: HttpRequest, number: str, payload: HotfixIn) -> dict[str, Any]:
    user = _user(request)
    ticket = ticket_for_user(user=user, number=number)
    mark = services.ticket_mark_hotfix(actor=user, ticket=ticket, note=payload.note)
    return {"ticket": ticket.number, "marked_at": mark.marked_at.isoformat()}


@router.get("/incidents")
def incidents(request: HttpRequest) -> list[dict[str, Any]]:
    return [incident_json(i) for i in services.incidents_for_user(user=_user(request))]


@router.get("/incidents/{pk}")
def incident(request: HttpRequest, pk: int) -> dict[str, Any]:
    return incident_json(services.incident_for_user(user=_user(request), pk=pk))


@router.post("/incidents/{pk}/confirm")
def confirm(request: HttpRequest, pk: int) -> dict[str, Any]:
    user = _user(request)
    found = services.incident_for_user(user=user, pk=pk)
    return incident_json(services.incident_confirm(actor=user, incident=found))


class ResolveIn(Schema):
    resolution: str
    root_cause: str = "unknown"
    resolve_tickets: list[str] = []


@router.post("/incidents/{pk}/resolve")
def resolve(request: HttpRequest, pk: int, payload: ResolveIn) -> dict[str, Any]:
    """Resolve; the linked open tickets named in ``resolve_tickets`` get the same resolution."""
    user = _user(request)
    found = services.incident_for_user(user=user, pk=pk)
    outcome = services.incident_resolve(
        actor=user,
        incident=found,
        resolution=payload.resolution,
        root_cause=payload.root_cause,
        resolve_tickets=payload.resolve_tickets,
    )
    return {
        "incident": incident_json(services.incident_for_user(user=user, pk=pk)),
        "resolved_tickets": outcome.resolved,
        "skipped_tickets": outcome.skipped,
    }


@router.get("/patterns")
def patterns(request: HttpRequest, hours: int = 24, limit: int = 20) -> dict[str, Any]:
    """Top error signatures in the last ``hours``: counts, users, first seen, trend, badge."""
    user = _user(request)
    require(user, Action.PATTERNS_VIEW)
    now = timezone.now()
    rows, deploy = analysis.top_signatures(
        get_source(), now - _hours(hours), now, limit=max(1, min(limit, 100))
    )
    return {
        "from": (now - _hours(hours)).isoformat(),
        "to": now.isoformat(),
        "last_deploy": deploy.isoformat() if deploy else None,
        "patterns": [pattern_json(r) for r in rows],
    }


def pattern_json(row: analysis.PatternRow) -> dict[str, Any]:
    return {
        "signature": row.signature,
        "template": services._template_text(row.signature, row.sample_message),
        "count": row.count,
        "users": row.users,
        "first_seen": row.first_seen.isoformat() if row.first_seen else None,
        "trend": list(row.trend),
        "new_since_deploy": row.new_since_deploy,
        "query": row.query,
    }


@router.get("/signatures/{signature}")
def signature_stats(request: HttpRequest, signature: str) -> dict[str, Any]:
    """Distinct users now vs baseline, where it concentrates, and the rules over it."""
    user = _user(request)
    require(user, Action.PATTERNS_VIEW)
    now: datetime = timezone.now()
    source = get_source()
    thresholds = services.rule_thresholds()
    coverage = analysis.Coverage.load(source, now - analysis.LOOKBACK - analysis.DAY, now)
    report = analysis.signature_report(
        source, signature, now=now, thresholds=thresholds, coverage=coverage
    )
    from backline.escalation.rules import CaseFacts, recommend

    rec = recommend(CaseFacts(signatures=(report.facts,), for_ticket=False, now=now), thresholds)
    return {
        **services.signature_evidence(report),
        "recommendation": services.recommendation_evidence(rec),
    }


class SettingsIn(Schema):
    values: dict[str, Any]


@router.get("/settings")
def settings_get(request: HttpRequest) -> dict[str, Any]:
    require(_user(request), Action.ESCALATION_SETTINGS)
    return {"thresholds": services.rule_thresholds().as_dict()}


@router.put("/settings")
def settings_put(request: HttpRequest, payload: SettingsIn) -> dict[str, Any]:
    thresholds = services.rule_settings_update(actor=_user(request), values=payload.values)
    return {"thresholds": thresholds.as_dict()}
