"""The Thursday handoff: records at Tier 3 rotation boundaries, the report, and the ownership move.

1. `handoff_create_due(now)` creates a record for each Tier 3 boundary that has passed and has
   none yet (idempotent: one record per rotation and boundary, enforced by a unique constraint).
   The record carries a generated report (JSON, rendered to Markdown) and schedules the
   grace-period transfer.
2. The outgoing engineer adds notes (`handoff_add_notes`); the incoming one acknowledges
   (`handoff_acknowledge`).
3. On acknowledgement, or when the grace period (settings.BACKLINE_HANDOFF_GRACE_MINUTES after the
   boundary) ends, `handoff_transfer` moves the outgoing engineer's open tickets listed in the
   report to the incoming engineer, one timeline entry per ticket. It runs EXACTLY ONCE per
   handoff however the acknowledgement and the grace-period task race (see its docstring).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.audit.services import audit_record
from backline.errors import Conflict, InvalidInput
from backline.oncall import adapters, schedule
from backline.oncall.models import Handoff, HandoffStatus, OncallRole, Rotation
from backline.oncall.selectors import active_rotations
from backline.tickets.choices import OPEN_STATUSES, Area, RootCause, Status, Upstream
from backline.tickets.models import Ticket, TicketPause, TimelineEntry, TimelineKind
from backline.tickets.services import ticket_assign

ACKNOWLEDGED = "acknowledged"
GRACE_PERIOD = "grace_period"

_ONE_MICROSECOND = timedelta(microseconds=1)


def grace_period() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "BACKLINE_HANDOFF_GRACE_MINUTES", 120)))


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _person(user: User | None) -> dict[str, str] | None:
    return None if user is None else {"username": user.username, "name": user.name}


# --- the report -------------------------------------------------------------------------------


def _open_tickets_of(user: User) -> list[Ticket]:
    """The engineer's open investigations: open tickets assigned to them that entered Tier 3
    (including ones sent back to Tier 2 with a question, which return to them)."""
    latest_note = TimelineEntry.objects.filter(
        ticket=OuterRef("pk"), kind=TimelineKind.COMMENT
    ).order_by("-at", "-id")
    return list(
        Ticket.objects.filter(assignee=user, status__in=OPEN_STATUSES, sla_started_at__isnull=False)
        .annotate(
            note_body=Subquery(latest_note.values("body")[:1]),
            note_at=Subquery(latest_note.values("at")[:1]),
            note_internal=Subquery(latest_note.values("internal")[:1]),
            note_author=Subquery(latest_note.values("actor__display_name")[:1]),
            note_username=Subquery(latest_note.values("actor__username")[:1]),
        )
        .order_by("next_due_at", "id")
    )


def _counts(values: list[str], labels: type[Any]) -> list[dict[str, Any]]:
    counted = Counter(v for v in values if v)
    rows = []
    for key, count in counted.most_common():
        try:
            label = str(labels(key).label)
        except ValueError:
            label = key
        rows.append({"key": key, "label": label, "count": count})
    return rows


def build_report(
    *,
    rotation: Rotation,
    at: datetime,
    outgoing: User,
    incoming: User,
    period_start: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The handoff report as JSON-ready data (also the source of the Markdown export)."""
    open_tickets = []
    for ticket in _open_tickets_of(outgoing):
        note = None
        if getattr(ticket, "note_body", None) is not None:
            note = {
                "at": _iso(ticket.note_at),  # type: ignore[attr-defined]
                "author": ticket.note_author or ticket.note_username,  # type: ignore[attr-defined]
                "internal": bool(ticket.note_internal),  # type: ignore[attr-defined]
                "body": ticket.note_body,  # type: ignore[attr-defined]
            }
        state = ticket.sla_state(now)
        open_tickets.append(
            {
                "number": ticket.number,
                "title": ticket.title,
                "priority": ticket.priority,
                "status": ticket.status,
                "status_label": Status(ticket.status).label,
                "tier": ticket.tier,
                "sla_state": state.value,
                "sla_state_label": state.label,
                "due_at": _iso(ticket.next_due_at),
                "waiting_on": ticket.waiting_on,
                "latest_note": note,
            }
        )
    week = Ticket.objects.filter(sla_started_at__gte=period_start, sla_started_at__lt=at)
    resolved = Ticket.objects.filter(resolved_at__gte=period_start, resolved_at__lt=at)
    pauses = (
        TicketPause.objects.filter(
            ended_at__isnull=True,
            reason=Status.WAITING_PARTNER,
            ticket__status=Status.WAITING_PARTNER,
        )
        .select_related("ticket", "ticket__assignee")
        .order_by("started_at", "id")
    )
    partners = [
        {
            "number": p.ticket.number,
            "title": p.ticket.title,
            "waiting_on": p.ticket.waiting_on,
            "since": _iso(p.started_at),
            "assignee": _person(p.ticket.assignee),
        }
        for p in pauses
    ]
    return {
        "rotation": {"id": rotation.pk, "name": rotation.name, "time_zone": rotation.time_zone},
        "at": _iso(at),
        "period": {"start": _iso(period_start), "end": _iso(at)},
        "generated_at": _iso(now),
        "outgoing": _person(outgoing),
        "incoming": _person(incoming),
        "open_tickets": open_tickets,
        "recurring": {
            "escalated": week.count(),
            "resolved": resolved.count(),
            "by_area": _counts(list(week.values_list("area", flat=True)), Area),
            "by_upstream": _counts(
                list(week.values_list("suspected_upstream", flat=True)), Upstream
            ),
            "by_root_cause": _counts(
                list(resolved.values_list("root_cause", flat=True)), RootCause
            ),
        },
        "partner_coordination": partners,
        "transfers": [t["number"] for t in open_tickets],
    }


def _md(text: str) -> str:
    """One line of user text, safe inside a Markdown table or list."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render_markdown(report: dict[str, Any], *, notes: str = "") -> str:
    """The report as Markdown (the export, and what the notification issue posts to Slack)."""
    out = report.get("outgoing") or {}
    inc = report.get("incoming") or {}
    lines = [
        f"# Handoff {report['rotation']['name']}: {out.get('name')} -> {inc.get('name')}",
        "",
        f"At {report['at']} (week from {report['period']['start']}).",
        "",
        "## Notes from the outgoing engineer",
        "",
        notes.strip() or "_No notes._",
        "",
        f"## Open tickets of {out.get('name')} ({len(report['open_tickets'])})",
        "",
    ]
    if report["open_tickets"]:
        lines += [
            "| Ticket | Priority | Status | SLA | Latest note |",
            "|---|---|---|---|---|",
        ]
        for t in report["open_tickets"]:
            note = t.get("latest_note")
            note_text = f"{_md(note['body'])} ({note['author']}, {note['at']})" if note else "-"
            lines.append(
                f"| {t['number']} {_md(t['title'])} | {t['priority']} | {t['status_label']} | "
                f"{t['sla_state_label']} | {note_text} |"
            )
    else:
        lines.append("_None._")
    recurring = report["recurring"]
    lines += [
        "",
        "## Recurring issues this week",
        "",
        f"{recurring['escalated']} escalated to Tier 3, {recurring['resolved']} resolved.",
        "",
    ]
    for title, key in (
        ("By area", "by_area"),
        ("By upstream", "by_upstream"),
        ("By root cause", "by_root_cause"),
    ):
        rows = recurring[key]
        counts = ", ".join(f"{r['label']} {r['count']}" for r in rows) if rows else "none"
        lines.append(f"- {title}: {counts}")
    lines += ["", "## Partner coordination", ""]
    if report["partner_coordination"]:
        for p in report["partner_coordination"]:
            owner = (p.get("assignee") or {}).get("name", "unassigned")
            lines.append(
                f"- {p['number']} {_md(p['title'])}: waiting on {_md(p['waiting_on']) or 'a partner'}"
                f" since {p['since']} ({owner})"
            )
    else:
        lines.append("_None._")
    lines += ["", "## Ownership moving to the incoming engineer", ""]
    lines.append(", ".join(report["transfers"]) if report["transfers"] else "_None._")
    return "\n".join(lines) + "\n"


# --- creating handoffs ------------------------------------------------------------------------


def _people_at(
    pure: schedule.Rotation[int],
    overrides: list[schedule.Override[int]],
    boundary: schedule.Handoff[int],
) -> tuple[int | None, int | None]:
    """(outgoing, incoming) for a boundary.

    Outgoing is the person whose scheduled turn ends (they own the week's investigations even if
    someone covered their last day); incoming is whoever actually answers at the boundary, so an
    override covering the new turn's first day receives the work.
    """
    incoming = schedule.on_call_at(pure, overrides, boundary.at).person
    return boundary.outgoing, incoming if incoming is not None else boundary.incoming


def handoff_create_due(
    *, now: datetime | None = None, rotation: Rotation | None = None
) -> list[Handoff]:
    """Create handoff records for Tier 3 boundaries that have passed and have none yet.

    Looks back one turn (and never before the rotation existed), so a late run still catches the
    latest boundary without inventing history. Boundaries where the same person stays on call
    need no handoff and get no record. Returns the records created by this call.
    """
    now = _now(now)
    created: list[Handoff] = []
    rotations = active_rotations(OncallRole.TIER3)
    if rotation is not None:
        rotations = rotations.filter(pk=rotation.pk)
    for row in rotations:
        since = max(now - adapters.turn_duration(row), row.created_at)
        pure, overrides = adapters.schedule_and_overrides(row, since, now)
        for boundary in schedule.handoffs_between(pure, since, now + _ONE_MICROSECOND):
            if Handoff.objects.filter(rotation=row, at=boundary.at).exists():
                continue
            outgoing_id, incoming_id = _people_at(pure, overrides, boundary)
            if outgoing_id is None or incoming_id is None or outgoing_id == incoming_id:
                continue
            handoff = _create(row, boundary, outgoing_id, incoming_id, now)
            if handoff is not None:
                created.append(handoff)
    return created


def _create(
    rotation: Rotation,
    boundary: schedule.Handoff[int],
    outgoing_id: int,
    incoming_id: int,
    now: datetime,
) -> Handoff | None:
    people = User.objects.in_bulk([outgoing_id, incoming_id])
    outgoing, incoming = people[outgoing_id], people[incoming_id]
    period_start = boundary.at - adapters.turn_duration(rotation)
    report = build_report(
        rotation=rotation,
        at=boundary.at,
        outgoing=outgoing,
        incoming=incoming,
        period_start=period_start,
        now=now,
    )
    try:
        with transaction.atomic():
            handoff = Handoff.objects.create(
                rotation=rotation,
                at=boundary.at,
                turn=boundary.turn,
                outgoing=outgoing,
                incoming=incoming,
                report=report,
                report_markdown=render_markdown(report),
            )
            audit_record(
                actor=None,
                action="oncall.handoff.create",
                detail={"handoff": handoff.pk, "rotation": rotation.pk, "at": _iso(boundary.at)},
            )
            from backline.notify.services import notify_handoff_report
            from backline.oncall.tasks import schedule_handoff_transfer

            schedule_handoff_transfer(handoff=handoff)
            # The report goes to the team channel in the same transaction as the record.
            notify_handoff_report(handoff=handoff)
    except IntegrityError:
        return None  # a concurrent run created this boundary's record first
    return handoff


# --- notes, acknowledgement, transfer ---------------------------------------------------------


@transaction.atomic
def handoff_add_notes(
    *, actor: User, handoff: Handoff, notes: str, now: datetime | None = None
) -> Handoff:
    """The outgoing engineer writes (or rewrites) their notes; the Markdown export includes them."""
    require(actor, Action.HANDOFF_ACT)
    if actor.pk != handoff.outgoing_id:
        raise Conflict("Only the outgoing engineer writes the handoff notes.")
    notes = notes.strip()
    if len(notes) > 20000:
        raise InvalidInput("The notes are too long.", {"notes": ["At most 20,000 characters."]})
    handoff = Handoff.objects.select_for_update().get(pk=handoff.pk)
    handoff.notes = notes
    handoff.notes_updated_at = _now(now)
    handoff.report_markdown = render_markdown(handoff.report, notes=notes)
    handoff.save(update_fields=["notes", "notes_updated_at", "report_markdown"])
    return handoff


@transaction.atomic
def handoff_acknowledge(*, actor: User, handoff: Handoff, now: datetime | None = None) -> Handoff:
    """The incoming engineer acknowledges; ownership moves now unless the grace period already
    moved it. Acknowledging twice is refused."""
    require(actor, Action.HANDOFF_ACT)
    if actor.pk != handoff.incoming_id:
        raise Conflict("Only the incoming engineer acknowledges the handoff.")
    now = _now(now)
    claimed = Handoff.objects.filter(pk=handoff.pk, acknowledged_at__isnull=True).update(
        acknowledged_at=now, acknowledged_by=actor, status=HandoffStatus.ACKNOWLEDGED
    )
    if claimed != 1:
        raise Conflict("This handoff is already acknowledged.")
    audit_record(actor=actor, action="oncall.handoff.acknowledge", detail={"handoff": handoff.pk})
    handoff_transfer(handoff=handoff, trigger=ACKNOWLEDGED, actor=actor, now=now)
    fresh = Handoff.objects.select_related("rotation", "outgoing", "incoming").get(pk=handoff.pk)
    from backline.notify.services import notify_handoff_acknowledged

    notify_handoff_acknowledged(handoff=fresh)
    return fresh


@transaction.atomic
def handoff_transfer(
    *,
    handoff: Handoff,
    trigger: str = GRACE_PERIOD,
    actor: User | None = None,
    now: datetime | None = None,
) -> list[str] | None:
    """Move the outgoing engineer's open tickets to the incoming one, exactly once per handoff.

    Steps:
    1. With the grace-period trigger, do nothing before the boundary plus the grace period.
    2. Claim the transfer with a conditional UPDATE (``transferred_at IS NULL``). On PostgreSQL a
       concurrent claimer blocks on the row lock until the first commits, then re-reads the row,
       finds ``transferred_at`` set and updates nothing; SQLite serialises writers outright.
    3. The loser returns None and changes nothing; the winner moves each ticket listed in the
       report that is still open and still assigned to the outgoing engineer (a ticket someone
       reassigned meanwhile is left alone), writing one timeline entry per move.
    Returns the numbers of the tickets moved by this call, or None when it did not transfer
    (not due yet, or already transferred).
    """
    now = _now(now)
    if trigger == GRACE_PERIOD and now < handoff.at + grace_period():
        return None
    claimed = Handoff.objects.filter(pk=handoff.pk, transferred_at__isnull=True).update(
        transferred_at=now, transfer_trigger=trigger
    )
    if claimed != 1:
        return None
    if trigger == GRACE_PERIOD:
        Handoff.objects.filter(pk=handoff.pk, acknowledged_at__isnull=True).update(
            status=HandoffStatus.TRANSFERRED
        )
    handoff = Handoff.objects.select_related("outgoing", "incoming").get(pk=handoff.pk)
    how = (
        f"acknowledged by {handoff.incoming.name}"
        if trigger == ACKNOWLEDGED
        else f"not acknowledged within {int(grace_period().total_seconds() // 60)} minutes"
    )
    reason = f"Handoff: {handoff.outgoing.name} -> {handoff.incoming.name} ({how})"
    moved: list[str] = []
    numbers = list(handoff.report.get("transfers", []))
    for ticket in (
        Ticket.objects.select_for_update(of=("self",))
        .filter(number__in=numbers, assignee=handoff.outgoing, status__in=OPEN_STATUSES)
        .order_by("id")
    ):
        ticket_assign(ticket=ticket, actor=actor, assignee=handoff.incoming, reason=reason)
        moved.append(ticket.number)
    Handoff.objects.filter(pk=handoff.pk).update(transferred_tickets=moved)
    audit_record(
        actor=actor,
        action="oncall.handoff.transfer",
        detail={"handoff": handoff.pk, "trigger": trigger, "tickets": moved},
    )
    return moved


def handoffs_transfer_overdue(*, now: datetime | None = None) -> list[Handoff]:
    """Run the grace-period transfer for every handoff past its grace period (for cron/tick)."""
    now = _now(now)
    due = Handoff.objects.filter(transferred_at__isnull=True, at__lte=now - grace_period())
    return [
        handoff
        for handoff in due
        if handoff_transfer(handoff=handoff, trigger=GRACE_PERIOD, now=now) is not None
    ]
