"""Writes of the escalation app: recommendations (audited reads), incidents, detection.

Every public function is one action in one transaction: the incident row, its links, the
ticket timeline entry, the audit row and the outbox rows (through ``notify.services``) commit
together or not at all. Evidence is masked before it is stored: security incidents name the user
by a masked token, messages are redacted, queries that name the ticket's user show a token.

Integration points (kept small on purpose):
- logs: ``logs.services.get_source()``; patterns: ``patterns.models.Template`` for template text.
- notify: ``notify_escalated_to_monitoring`` / ``notify_escalated_to_investigator`` for a ticket;
  ``_page_monitoring`` (PagerDuty through ``notify.services.delivery_write``) for an incident
  detection found before any ticket.
- on-call: ``oncall.selectors.on_call_for`` says whether Tier 3 coverage is open ("out of hours").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, can, require
from backline.audit.masking import log_redactor, mask_identifier
from backline.audit.services import audit_record
from backline.errors import Conflict, DomainError, InvalidInput, NotFound
from backline.escalation import analysis
from backline.escalation.models import (
    ACTIVE_STATUSES,
    HotfixMark,
    Incident,
    IncidentStatus,
    IncidentTicket,
    RuleSettings,
    Severity,
    TargetRole,
)
from backline.escalation.rules import SECURITY_RULES, Recommendation, Thresholds, result_as_dict
from backline.logs.services import get_source
from backline.tickets import services as ticket_services
from backline.tickets.choices import OPEN_STATUSES, RootCause, Tier
from backline.tickets.models import Ticket

logger = logging.getLogger(__name__)

_DETECTION_STATE = analysis.DetectionState()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


# ---- settings ----------------------------------------------------------------------------------


def rule_thresholds() -> Thresholds:
    """The thresholds in force: the admins' row over the defaults."""
    row = RuleSettings.objects.filter(pk=RuleSettings.SINGLETON).first()
    return row.thresholds() if row is not None else Thresholds()


@transaction.atomic
def rule_settings_update(*, actor: User, values: dict[str, Any]) -> Thresholds:
    """Replace the overridden thresholds (admins only); unknown or bad values name the field."""
    require(actor, Action.ESCALATION_SETTINGS)
    try:
        thresholds = Thresholds.from_mapping(values)
    except ValueError as exc:
        raise InvalidInput(str(exc), {"values": [str(exc)]}) from None
    RuleSettings.objects.update_or_create(
        pk=RuleSettings.SINGLETON, defaults={"values": dict(values), "updated_by": actor}
    )
    audit_record(actor=actor, action="escalation.settings.update", detail={"values": values})
    return thresholds


# ---- masking helpers --------------------------------------------------------------------------------


def _template_text(signature: str, sample: str) -> str:
    """The template the patterns app stored, else the sample message redacted."""
    from backline.patterns.models import Template

    row = Template.objects.filter(template_id=signature).only("template").first()
    if row is not None:
        return row.template
    return log_redactor().redact_text(sample) if sample else ""


def _query_json(query: analysis.Query, user_id: str) -> dict[str, Any]:
    """A query behind a number; one that names the ticket's user shows a token and no link."""
    if user_id and user_id in query.query:
        return {
            "label": query.label,
            "query": query.query.replace(user_id, mask_identifier(user_id)),
            "link": "",
            "names_user": True,
        }
    return {"label": query.label, "query": query.query, "link": query.link, "names_user": False}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def signature_evidence(report: analysis.SignatureReport, user_id: str = "") -> dict[str, Any]:
    f = report.facts
    return {
        "signature": f.signature,
        "template": _template_text(f.signature, report.sample_message),
        "user_events": f.user_events,
        "windows": [
            {
                "label": w.label,
                "scope": w.scope,
                "users": w.users,
                "baseline": None if w.baseline is None else round(w.baseline, 2),
                "baseline_days": w.baseline_days,
            }
            for w in f.windows
        ],
        "other_users_24h": f.other_users_24h,
        "first_seen": _iso(f.first_seen),
        "version_change_at": _iso(f.version_change_at),
        "areas": list(f.areas),
        "days_seen": f.days_seen,
        "endpoint_share": f.endpoint_share,
        "concentration": [
            {
                "field": c.field,
                "label": c.label,
                "value": c.value,
                "error_share": round(c.error_share, 3),
                "traffic_share": round(c.traffic_share, 3),
                "lift": None if c.traffic_share == 0 else round(c.lift, 2),
            }
            for c in report.concentration
        ],
        "queries": [_query_json(q, user_id) for q in report.queries],
    }


def recommendation_evidence(rec: Recommendation) -> dict[str, Any]:
    return {
        "target": rec.target,
        "headline": rec.headline,
        "deciding": list(rec.deciding),
        "rules": [result_as_dict(r) for r in rec.results],
    }


def analysis_evidence(found: analysis.TicketAnalysis, user_id: str) -> dict[str, Any]:
    """The whole ticket analysis as JSON with every identifier masked."""
    return {
        "window": {"from": found.start.isoformat(), "to": found.end.isoformat()},
        "recommendation": recommendation_evidence(found.recommendation),
        "signatures": [signature_evidence(r, user_id) for r in found.signatures],
        "upstreams": [
            {
                "upstream": u.upstream,
                "scope": u.scope,
                "calls": u.calls,
                "failures": u.failures,
                "rate": round(u.rate, 4),
                "baseline_rate": None if u.baseline_rate is None else round(u.baseline_rate, 4),
                "users_failed": u.users_failed,
            }
            for u in found.upstreams
        ],
        "security": {
            "patients_read": found.security.patients_read,
            "signin_addresses": found.security.signin_addresses,
        },
        "queries": [_query_json(q, user_id) for q in found.queries],
    }


# ---- recommendation for a ticket ----------------------------------------------------------------


@dataclass(frozen=True)
class TicketRecommendation:
    ticket: Ticket
    analysis: analysis.TicketAnalysis | None
    evidence: dict[str, Any]
    incidents: list[Incident]
    reason: str = ""  # why there is no analysis (no affected user)


def _hours_without_root_cause(ticket: Ticket, now: datetime) -> float | None:
    if ticket.tier != Tier.TIER3 or not ticket.is_open or ticket.root_cause:
        return None
    since = ticket.sla_started_at or ticket.created_at
    return (now - since).total_seconds() / 3600 if since else None


def ticket_recommendation(
    *, user: User, ticket: Ticket, now: datetime | None = None
) -> TicketRecommendation:
    """The recommendation for a ticket the caller may see (``ticket_for_user`` first), audited:
    the analysis reads the affected user's log events."""
    require(user, Action.PATTERNS_VIEW)
    now = _now(now)
    linked = list(Incident.objects.filter(links__ticket=ticket).order_by("-opened_at").distinct())
    if not ticket.affected_user_id:
        return TicketRecommendation(ticket, None, {}, linked, "The ticket names no affected user.")
    found = analysis.ticket_analysis(
        get_source(),
        user_id=ticket.affected_user_id,
        occurred_at=ticket.occurred_at,
        occurred_until=ticket.occurred_until,
        now=now,
        thresholds=rule_thresholds(),
        hotfix_needed=HotfixMark.objects.filter(ticket=ticket).exists(),
        hours_without_root_cause=_hours_without_root_cause(ticket, now),
    )
    with transaction.atomic():
        audit_record(
            actor=user,
            action="escalation.analysis",
            subject=ticket.affected_user_id,
            ticket_number=ticket.number,
            query=analysis.user_query(ticket.affected_user_id),
            result_count=len(found.signatures),
            detail={"from": found.start.isoformat(), "to": found.end.isoformat()},
        )
    evidence = analysis_evidence(found, ticket.affected_user_id)
    return TicketRecommendation(ticket, found, evidence, linked)


HOTFIX_NOTE_MAX = 2000


@transaction.atomic
def ticket_mark_hotfix(*, actor: User, ticket: Ticket, note: str = "") -> HotfixMark:
    """Say that this ticket's problem needs an immediate change (a monitoring criterion).

    Refused (nothing saved): without ``incident.open``; a ticket that is not open (409); a
    ticket already marked (409, naming who marked it); a note over ``HOTFIX_NOTE_MAX`` (422).
    """
    require(actor, Action.INCIDENT_OPEN)
    if not ticket.is_open:
        raise Conflict(f"{ticket.number} is closed: a hotfix mark is only for open tickets.")
    existing = HotfixMark.objects.filter(ticket=ticket).select_related("marked_by").first()
    if existing is not None:
        who = existing.marked_by.name if existing.marked_by else "someone"
        raise Conflict(f"{ticket.number} is already marked as needing a hotfix (by {who}).")
    note = note.strip()
    if len(note) > HOTFIX_NOTE_MAX:
        problem = f"at most {HOTFIX_NOTE_MAX} characters (it has {len(note)})"
        raise InvalidInput(f"Note: {problem}.", {"note": [problem]})
    try:
        with transaction.atomic():
            mark = HotfixMark.objects.create(ticket=ticket, marked_by=actor, note=note)
    except IntegrityError:  # marked by someone else a moment ago
        raise Conflict(f"{ticket.number} is already marked as needing a hotfix.") from None
    ticket_services.ticket_note_evidence(
        ticket=ticket,
        actor=actor,
        summary="Marked: this needs an immediate change or hotfix.",
        data={"escalation": "hotfix"},
    )
    return mark


# ---- incidents -----------------------------------------------------------------------------------


def _open_tickets_of_users(users: set[str], exclude: set[int]) -> list[Ticket]:
    if not users:
        return []
    return list(
        Ticket.objects.filter(affected_user_id__in=users, status__in=OPEN_STATUSES)
        .exclude(pk__in=exclude)
        .order_by("pk")
    )


def _users_matching(query: str, start: datetime, end: datetime) -> set[str]:
    found = get_source().facets(query, start, end, fields=["@user_uuid"], limit=1000)
    return {str(v.value) for v in found.get("@user_uuid", []) if v.value}


def _users_with_signatures(signatures: list[str], start: datetime, end: datetime) -> set[str]:
    if not signatures:
        return set()
    query = analysis.both(
        analysis.ERROR_QUERY,
        "@signature:(" + " OR ".join(analysis.quote(s) for s in signatures) + ")",
    )
    return _users_matching(query, start, end)


def _affected_users(incident: Incident, now: datetime, window: timedelta) -> tuple[set[str], str]:
    """The users an incident affects, and why their tickets join it: for an upstream down at a
    facility, users whose calls there failed (or were slow) from 30 minutes before detection;
    otherwise users who hit its signatures in ``window``."""
    scoped = str(incident.evidence.get("users_query") or "")
    if scoped:
        began = incident.detected_at or now
        start = max(now - window, began - timedelta(minutes=30))
        return _users_matching(scoped, start, now), "affected by the same upstream problem"
    signatures = list(incident.signatures)
    return _users_with_signatures(signatures, now - window, now), "shares the signature"


def _link(incident: Incident, ticket: Ticket, reason: str) -> bool:
    try:
        with transaction.atomic():
            IncidentTicket.objects.create(incident=incident, ticket=ticket, reason=reason)
    except IntegrityError:
        return False
    return True


def incident_link_sharing_tickets(
    *, incident: Incident, now: datetime | None = None, window: timedelta = timedelta(hours=24)
) -> list[Ticket]:
    """Link the open tickets whose affected users the incident affects (``_affected_users``)."""
    now = _now(now)
    users, reason = _affected_users(incident, now, window)
    already = set(incident.links.values_list("ticket_id", flat=True))
    linked = []
    for ticket in _open_tickets_of_users(users, already):
        if _link(incident, ticket, reason):
            linked.append(ticket)
    return linked


def _severity(rec: Recommendation) -> str:
    """Critical: a security indicator, or an upstream down (most calls failing) for everyone or
    for one facility's patients; high: other monitoring cases; medium: the investigator."""
    if set(rec.deciding) & SECURITY_RULES:
        return Severity.CRITICAL
    if any(r.decides and r.numbers.get("state") == "down" for r in rec.results):
        return Severity.CRITICAL
    return Severity.HIGH if rec.target == "monitoring" else Severity.MEDIUM


def _notify_for_ticket(
    incident: Incident, ticket: Ticket, actor: User | None, rec: Recommendation
) -> list[int]:
    from backline.notify import services as notify

    summary = {
        "incident": incident.number,
        "headline": rec.headline,
        "why": [r.explanation for r in rec.fired() if r.decides],
        "signatures": list(incident.signatures),
    }
    if incident.target_role == TargetRole.MONITORING:
        rows = notify.notify_escalated_to_monitoring(
            ticket=ticket, actor=actor, evidence=summary, incident_key=str(incident.pk)
        )
    else:
        question = rec.headline + " " + " ".join(summary["why"])
        rows = notify.notify_escalated_to_investigator(
            ticket=ticket, actor=actor, request_type="pattern analysis", question=question
        )
    return [row.pk for row in rows]


@transaction.atomic
def incident_open_from_ticket(
    *,
    actor: User,
    ticket: Ticket,
    now: datetime | None = None,
    target: str | None = None,
    found: TicketRecommendation | None = None,
) -> Incident:
    """One action: an incident with the evidence, linked tickets, the right person notified.

    Steps:
    1. Recompute the recommendation (or take ``found``); refuse when it says stay at Tier 3 and
       no ``target`` overrides it.
    2. An active incident with one of the same signatures (a detection proposal, another
       ticket's escalation) is reused and opened; else a new one is created.
    3. Link this ticket and every open ticket whose user hit the signatures in 24 h.
    4. Notify: page monitoring (PagerDuty and the team channel) or message the investigator
       (Slack and email); outbox rows commit with the incident. Timeline entry on the ticket.
    """
    require(actor, Action.INCIDENT_OPEN)
    now = _now(now)
    found = found or ticket_recommendation(user=actor, ticket=ticket, now=now)
    if found.analysis is None:
        raise InvalidInput(found.reason, {"ticket": [found.reason]})
    rec = found.analysis.recommendation
    chosen = target or rec.target
    if chosen not in (TargetRole.MONITORING, TargetRole.INVESTIGATOR):
        raise InvalidInput(
            "The recommendation is to stay at Tier 3; choose a target to escalate anyway.",
            {"target": ["Choose monitoring or investigator."]},
        )
    signatures = [r.facts.signature for r in found.analysis.signatures]
    existing = _active_with_signatures(signatures)
    if existing is not None:
        incident = existing
        if incident.status == IncidentStatus.PROPOSED:
            incident.status = IncidentStatus.OPEN
            incident.target_role = chosen
            incident.opened_by = actor
            incident.save(update_fields=["status", "target_role", "opened_by"])
    else:
        title = ticket.title[:200]
        incident = Incident.objects.create(
            title=title,
            signatures=signatures,
            status=IncidentStatus.OPEN,
            severity=_severity(rec),
            target_role=chosen,
            evidence={"source": f"ticket {ticket.number}", **found.evidence},
            opened_by=actor,
        )
    _link(incident, ticket, "escalated from this ticket")
    incident_link_sharing_tickets(incident=incident, now=now)
    ids = _notify_for_ticket(incident, ticket, actor, rec)
    incident.notified_delivery_ids = [*incident.notified_delivery_ids, *ids]
    incident.paged = incident.paged or (chosen == TargetRole.MONITORING and bool(ids))
    incident.save(update_fields=["notified_delivery_ids", "paged"])
    role = TargetRole(chosen).label
    ticket_services.ticket_note_evidence(
        ticket=ticket,
        actor=actor,
        summary=f"Escalated to the {role} as {incident.number}: {rec.headline}",
        data={"incident": incident.pk, "target": chosen},
    )
    audit_record(
        actor=actor,
        action="escalation.incident.open",
        ticket_number=ticket.number,
        detail={"incident": incident.pk, "target": chosen, "signatures": signatures},
    )
    return incident


def _active_with_signatures(signatures: list[str]) -> Incident | None:
    if not signatures:
        return None
    wanted = set(signatures)
    for incident in Incident.objects.filter(status__in=ACTIVE_STATUSES).order_by("opened_at"):
        if wanted & set(incident.signatures or []):
            return incident
    return None


@dataclass(frozen=True)
class ResolveOutcome:
    incident: Incident
    resolved: list[str]
    skipped: dict[str, str]  # ticket number -> why it was left open


@transaction.atomic
def incident_resolve(
    *,
    actor: User,
    incident: Incident,
    resolution: str,
    root_cause: str = RootCause.UNKNOWN,
    resolve_tickets: list[str] | None = None,
) -> ResolveOutcome:
    """Resolve the incident; resolve the chosen linked open tickets with its resolution.

    Each ticket is resolved in its own savepoint: one the actor may not resolve is reported in
    ``skipped`` and the others still go through.
    """
    require(actor, Action.INCIDENT_RESOLVE)
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    if incident.status == IncidentStatus.RESOLVED:
        raise Conflict("The incident is already resolved.", allowed=[])
    if not resolution.strip():
        raise InvalidInput("Describe the resolution.", {"resolution": ["This field is required."]})
    if root_cause not in RootCause.values:
        raise InvalidInput(
            f"Unknown root cause {root_cause!r}.", {"root_cause": ["Choose a root cause."]}
        )
    incident.status = IncidentStatus.RESOLVED
    incident.resolution = resolution.strip()
    incident.root_cause = root_cause
    incident.resolved_at = timezone.now()
    incident.resolved_by = actor
    incident.save(
        update_fields=["status", "resolution", "root_cause", "resolved_at", "resolved_by"]
    )
    wanted = set(resolve_tickets or [])
    resolved: list[str] = []
    skipped: dict[str, str] = {}
    for link in incident.links.select_related("ticket"):
        ticket = link.ticket
        if ticket.number not in wanted:
            continue
        if not ticket.is_open:
            skipped[ticket.number] = "already closed"
            continue
        try:
            with transaction.atomic():
                ticket_services.ticket_resolve(
                    ticket=ticket,
                    actor=actor,
                    summary=f"Resolved with {incident.number}: {incident.resolution}",
                    root_cause=root_cause,
                )
        except (PermissionDenied, DomainError) as exc:
            skipped[ticket.number] = str(exc) or type(exc).__name__
            continue
        resolved.append(ticket.number)
    audit_record(
        actor=actor,
        action="escalation.incident.resolve",
        detail={"incident": incident.pk, "resolved": resolved, "skipped": sorted(skipped)},
    )
    return ResolveOutcome(incident, resolved, skipped)


@transaction.atomic
def incident_confirm(*, actor: User, incident: Incident) -> Incident:
    """Turn a detection proposal into an open incident and notify its target on-call."""
    require(actor, Action.INCIDENT_OPEN)
    claimed = Incident.objects.filter(pk=incident.pk, status=IncidentStatus.PROPOSED).update(
        status=IncidentStatus.OPEN, opened_by=actor
    )
    if claimed != 1:
        raise Conflict("Only a proposed incident can be confirmed.", allowed=[])
    incident.refresh_from_db()
    if incident.target_role == TargetRole.MONITORING and not incident.paged:
        ids = _page_monitoring(incident)
        Incident.objects.filter(pk=incident.pk).update(
            paged=bool(ids), notified_delivery_ids=[*incident.notified_delivery_ids, *ids]
        )
        incident.refresh_from_db()
    audit_record(
        actor=actor, action="escalation.incident.confirm", detail={"incident": incident.pk}
    )
    return incident


def _incident_link(incident: Incident) -> str:
    from django.conf import settings

    return f"{settings.SITE_URL}/escalation/incidents/{incident.pk}/"


def _headline(incident: Incident) -> str:
    """The recommendation's headline stored in the evidence ("Escalate to monitoring: ...")."""
    return str(incident.evidence.get("recommendation", {}).get("headline", ""))


def _tell_teams(incident: Incident, candidate: analysis.Candidate) -> list[int]:
    """Post a proposal to the Tier 3 team's channels and those of the role it is for."""
    from backline.accounts.roles import Role
    from backline.notify import services as notify

    details = [
        (name.replace("_", " ").capitalize(), str(value))
        for name, value in candidate.numbers.items()
        if value is not None
    ]
    written = notify.notify_incident_proposed(
        headline=f"{incident.number} proposed by detection: {incident.title}",
        summary=_headline(incident),
        details=[("Severity", incident.get_severity_display()), *details],
        link=_incident_link(incident),
        roles=[Role.TIER3, Role(incident.target_role)],
        key=f"incident-proposed-{incident.pk}",
    )
    return [d.pk for d in written]


def _page_monitoring(incident: Incident) -> list[int]:
    """PagerDuty trigger on every Monitoring service for an incident that has no ticket yet."""
    from backline.accounts.roles import Role
    from backline.notify import rendering
    from backline.notify import services as notify
    from backline.notify.models import Channel, ChannelKind, Event

    notice = rendering.Notice(
        event=Event.ESCALATED_MONITORING,
        headline=f"{incident.number} proposed by detection",
        what_happened=f"{incident.title}. {_headline(incident)}",
        link=_incident_link(incident),
    )
    dedup = f"backline-incident-{incident.pk}"
    ids: list[int] = []
    for channel in Channel.objects.filter(
        kind=ChannelKind.PAGERDUTY, role=Role.MONITORING, enabled=True
    ):
        row = notify.delivery_write(
            event=Event.ESCALATED_MONITORING,
            channel=ChannelKind.PAGERDUTY,
            target=channel.target,
            channel_config=channel,
            payload=notify.pagerduty_channel_event(
                notice, "trigger", dedup, incident.severity, {"incident": incident.number}
            ),
            key=f"pd:{dedup}:trigger:ch{channel.pk}:0",
            dedup_key=dedup,
        )
        if row is not None:
            ids.append(row.pk)
    return ids


# ---- detection -----------------------------------------------------------------------------------


def _out_of_hours(now: datetime) -> bool:
    from backline.oncall.selectors import on_call_for

    return not on_call_for(role="tier3", at=now).in_coverage


def detect(*, now: datetime | None = None) -> list[Incident]:
    """One evaluation of continuous detection; safe to run twice (one incident per key).

    Steps:
    1. Keys of active incidents are skipped; the analysis finds what crossed a threshold.
    2. Each candidate becomes a proposed incident in its own transaction; the partial unique
       constraint on the key makes a concurrent duplicate fail, and it is skipped.
    3. A critical candidate (a security indicator) out of Tier 3 hours pages monitoring now.
    4. Open tickets whose users hit the signature are linked (also to older active incidents,
       so tickets arriving later join them).
    """
    now = _now(now)
    thresholds = rule_thresholds()
    active = list(Incident.objects.filter(status__in=ACTIVE_STATUSES))
    skip = {i.detection_key for i in active if i.detection_key}
    # A signature already held by an active incident (an upstream outage's errors, say) is not
    # proposed a second time on its own.
    skip |= {f"sig:{signature}" for i in active for signature in i.signatures}
    candidates = analysis.detect_candidates(
        get_source(),
        now,
        thresholds,
        state=_DETECTION_STATE,
        skip_keys=skip,
        token=mask_identifier,
    )
    created: list[Incident] = []
    for candidate in candidates:
        incident = _propose(candidate, now)
        if incident is not None:
            created.append(incident)
    for incident in [*active, *created]:
        if incident.signatures or incident.evidence.get("users_query"):
            with transaction.atomic():
                incident_link_sharing_tickets(incident=incident, now=now)
    return created


def _propose(candidate: analysis.Candidate, now: datetime) -> Incident | None:
    rec = candidate.recommendation
    evidence: dict[str, Any] = {
        "source": "detection",
        "detected_at": now.isoformat(),
        "recommendation": recommendation_evidence(rec),
        "numbers": dict(candidate.numbers),
        "queries": [_query_json(q, "") for q in candidate.queries],
    }
    if candidate.users_query:
        evidence["users_query"] = candidate.users_query
    title = candidate.title
    if candidate.report is not None:
        evidence["signatures"] = [signature_evidence(candidate.report)]
        title = evidence["signatures"][0]["template"] or title
    if candidate.subject:
        evidence["subject"] = mask_identifier(candidate.subject)
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                title=title[:200],
                signatures=[candidate.signature] if candidate.signature else [],
                detection_key=candidate.key,
                status=IncidentStatus.PROPOSED,
                severity=_severity(rec),
                target_role=rec.target if rec.target != "tier3" else TargetRole.MONITORING,
                evidence=evidence,
            )
            ids = _tell_teams(incident, candidate)
            if (
                incident.severity == Severity.CRITICAL
                and incident.target_role == TargetRole.MONITORING
                and _out_of_hours(now)
            ):
                paged = _page_monitoring(incident)
                incident.paged = bool(paged)
                ids += paged
            incident.notified_delivery_ids = ids
            incident.save(update_fields=["paged", "notified_delivery_ids"])
            audit_record(
                actor=None,
                action="escalation.incident.propose",
                detail={"incident": incident.pk, "key": candidate.key, "target": rec.target},
            )
    except IntegrityError:
        return None  # another worker proposed it first
    return incident


def incidents_for_user(*, user: User) -> list[Incident]:
    require(user, Action.INCIDENT_VIEW)
    return list(Incident.objects.prefetch_related("links__ticket").order_by("-opened_at")[:200])


def incident_for_user(*, user: User, pk: int) -> Incident:
    require(user, Action.INCIDENT_VIEW)
    incident = Incident.objects.prefetch_related("links__ticket").filter(pk=pk).first()
    if incident is None:
        raise NotFound(f"No incident {pk}.")
    return incident


def may_see_incidents(user: User) -> bool:
    return can(user, Action.INCIDENT_VIEW)
