"""The demo world: one person per role, the teams, and tickets in every status.

Everything is created through the real services, so the demo exercises the same rules as production.
Running it twice changes nothing (people and tickets are looked up first).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from backline.accounts.models import Team, User
from backline.accounts.roles import Role
from backline.accounts.services import user_create
from backline.tickets import services
from backline.tickets.models import Ticket

DEMO_PASSWORD = "backline-demo"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    name: str
    roles: tuple[Role, ...]
    teams: tuple[str, ...]


TEAMS = {
    "help-desk": ("Help Desk", Role.TIER1),
    "technical-support": ("Technical Support", Role.TIER2),
    "tier-3-support": ("Tier 3 Support", Role.TIER3),
    "monitoring": ("Monitoring", Role.MONITORING),
    "investigator": ("Investigator", Role.INVESTIGATOR),
}

PEOPLE = (
    DemoPerson("tina", "Tina Tier1", (Role.TIER1,), ("help-desk",)),
    DemoPerson("sam", "Sam Specialist", (Role.TIER2,), ("technical-support",)),
    DemoPerson("erin", "Erin Engineer", (Role.TIER3,), ("tier-3-support",)),
    DemoPerson(
        "frank", "Frank Fixer", (Role.TIER3, Role.MONITORING), ("tier-3-support", "monitoring")
    ),
    DemoPerson("mona", "Mona Monitor", (Role.MONITORING,), ("monitoring",)),
    DemoPerson("ivan", "Ivan Investigator", (Role.INVESTIGATOR,), ("investigator",)),
    DemoPerson("maggie", "Maggie Manager", (Role.MANAGER,), ()),
    DemoPerson("ada", "Ada Admin", (Role.ADMIN,), ()),
)


def _context(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "description": "Escalated by Technical Support after standard troubleshooting.",
        "priority": "medium",
        "area": "medications",
        "suspected_upstream": "vista",
        "occurred_at": timezone.now() - timedelta(hours=3),
        "device": "Desktop",
        "browser": "Chrome 142",
        "os": "Windows 11",
        "credential": "idme",
        "oracle_health_site": False,
        "url": "https://portal.example.org/my-health/medications",
        "external_refs": ["HRC-HD-Y4-0000447389"],
        "steps_to_reproduce": "Sign in with ID.me, open Medications.",
        "expected_behaviour": "Active prescriptions are listed.",
        "actual_behaviour": "The page says: We can't access your medications right now.",
        "troubleshooting_steps": [
            "Cleared cache and cookies, tried another browser",
            "Confirmed prescriptions exist in the clinical record",
        ],
        "entry_criterion": "tier2_cannot_resolve",
    }
    base.update(overrides)
    return base


DEMO_TICKETS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "new",
        _context(
            title="RX - We can't access your medications right now",
            affected_user_id="1012345678V123456",
        ),
    ),
    (
        "acknowledged",
        _context(
            title="RX - Medications list empty although the record shows them",
            affected_user_id="1098765432V654321",
            priority="high",
        ),
    ),
    (
        "investigating",
        _context(
            title="SM - You are not connected to any care team",
            area="secure_messaging",
            affected_user_id="1011122233V445566",
            entry_criterion="integration_failure",
        ),
    ),
    (
        "waiting_requester",
        _context(
            title="MR - Lab results missing after facility transfer",
            area="medical_records",
            affected_user_id="1055566677V778899",
            suspected_upstream="oracle_health",
            oracle_health_site=True,
        ),
    ),
    (
        "waiting_partner",
        _context(
            title="Account deactivation blocked by identity correlation error",
            area="account",
            suspected_upstream="mpi",
            affected_user_id="1033344455V556677",
            entry_criterion="config_change",
        ),
    ),
    (
        "resolved",
        _context(
            title="RX - Refill button missing for one prescription",
            affected_user_id="1077788899V990011",
            priority="low",
        ),
    ),
    (
        "closed",
        _context(
            title="SM - Messages missing from the Sent folder",
            area="secure_messaging",
            affected_user_id="1022233344V112233",
        ),
    ),
    (
        "canceled",
        _context(
            title="RX - Duplicate of an earlier ticket",
            affected_user_id="1012345678V123456",
            priority="low",
        ),
    ),
    (
        "critical",
        _context(
            title="RX - Wrong patient's medication shown after refill",
            affected_user_id="1044455566V667788",
            priority="critical",
            entry_criterion="security",
        ),
    ),
)


@transaction.atomic
def demo_people() -> dict[str, User]:
    teams = {
        slug: Team.objects.get_or_create(slug=slug, defaults={"name": name, "role": role})[0]
        for slug, (name, role) in TEAMS.items()
    }
    people: dict[str, User] = {}
    for person in PEOPLE:
        user = User.objects.filter(username=person.username).first()
        if user is None:
            user = user_create(
                username=person.username,
                password=DEMO_PASSWORD,
                roles=person.roles,
                display_name=person.name,
                email=f"{person.username}@backline.example",
                teams=[teams[slug] for slug in person.teams],
            )
            if Role.ADMIN in person.roles:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
        people[person.username] = user
    return people


def demo_tickets(people: dict[str, User]) -> int:
    """Create one ticket per demo status through the services. Returns how many were created."""
    if Ticket.objects.exists():
        return 0
    sam, erin, frank, tina = people["sam"], people["erin"], people["frank"], people["tina"]
    created = 0
    for state, context in DEMO_TICKETS:
        # Tier 1 opens it, Tier 2 escalates it with the full context: the real path.
        opening = {k: context[k] for k in ("title", "description", "priority", "area")}
        opening["troubleshooting_steps"] = ["Password reset and sign-in verified by the help desk"]
        ticket = services.ticket_create(actor=tina, fields=opening)
        ticket = services.ticket_escalate(ticket=ticket, actor=tina, to_tier=2)
        rest = {k: v for k, v in context.items() if k not in opening}
        ticket = services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3, context=rest)
        engineer = frank if created % 2 else erin
        if state in {
            "acknowledged",
            "investigating",
            "waiting_requester",
            "waiting_partner",
            "resolved",
            "closed",
            "critical",
        }:
            ticket = services.ticket_acknowledge(ticket=ticket, actor=engineer)
        if state == "investigating":
            ticket = services.ticket_change_status(
                ticket=ticket, actor=engineer, to="investigating"
            )
            services.ticket_comment(
                ticket=ticket,
                actor=engineer,
                internal=True,
                body="Care-team list comes back empty from the messaging API for this station.",
            )
        elif state == "waiting_requester":
            services.ticket_send_back(
                ticket=ticket,
                actor=engineer,
                question="Which facility did the patient transfer from, and on what date?",
            )
        elif state == "waiting_partner":
            services.ticket_change_status(
                ticket=ticket, actor=engineer, to="waiting_partner", note="MPI / identity team"
            )
        elif state in {"resolved", "closed"}:
            ticket = services.ticket_resolve(
                ticket=ticket,
                actor=engineer,
                summary="Stale cache entry for the user's prescriptions cleared.",
                root_cause="user_data",
                workaround="Ask the patient to sign out and in again.",
                code_change_needed=False,
            )
            if state == "closed":
                services.ticket_change_status(ticket=ticket, actor=engineer, to="closed")
        elif state == "canceled":
            services.ticket_cancel(
                ticket=ticket, actor=engineer, reason="Duplicate of an earlier ticket."
            )
        created += 1
    return created


# -- the simulated health portal: a week of logs and the tickets its scenarios cause ------------

DEMO_LOG_SEED = 2026
DEMO_LOG_DAYS = 7
DEMO_LOG_USERS = 1500
DEMO_LOG_RATE = 1.0  # mean events per second: about 600,000 events for the week
# Continuous detection is replayed over the first minutes of each system-wide scenario.
DEMO_DETECTION_MINUTES = 10
DEMO_DETECTION_STEP = timedelta(seconds=15)
DEMO_SCENARIO_SPAN = timedelta(hours=3)  # the longest scenario window


def demo_logs(
    people: dict[str, User],
    *,
    now: datetime | None = None,
    days: float = DEMO_LOG_DAYS,
    users: int = DEMO_LOG_USERS,
    rate: float = DEMO_LOG_RATE,
) -> tuple[int, int, int]:
    """Load a simulated week (ending now) into the log store, with every named scenario,
    escalate the tickets those scenarios cause from Tier 2 through the normal services, and
    replay continuous detection over each system-wide scenario (``demo_detection``).

    Returns (events loaded, tickets escalated, incidents proposed); zeros when the store
    already holds events.
    """
    from backline.logs.ingest import import_file
    from backline.logs.services import get_store, signature_hook
    from backline.logs.simulate import (
        SimulationConfig,
        all_scenarios,
        manifest,
        ticket_seeds,
        write_jsonl,
    )

    store = get_store()
    if store.count() > 0:
        return 0, 0, 0
    now = now or timezone.now()
    # The week ends at the moment of loading, so dashboards judging "the last 15 minutes" have data.
    start = (now - timedelta(days=days)).replace(microsecond=0)
    config = SimulationConfig(
        seed=DEMO_LOG_SEED,
        start=start,
        days=days,
        users=users,
        events_per_second=rate,
        scenarios=all_scenarios(),
    )
    with tempfile.TemporaryDirectory(prefix="backline-demo-") as folder:
        path = Path(folder) / "week.jsonl"
        write_jsonl(config, path)
        loaded = import_file(store, path, signature_hook=signature_hook())
    escalated = 0
    for seed in ticket_seeds(config):
        fields: dict[str, Any] = {
            k: v for k, v in seed.items() if k not in {"scenario", "reported_at"}
        }
        for name in ("occurred_at", "occurred_until"):
            fields[name] = datetime.fromisoformat(fields[name]) if fields.get(name) else None
        ticket = services.ticket_create(actor=people["sam"], fields=fields, tier=2)
        services.ticket_escalate(ticket=ticket, actor=people["sam"], to_tier=3)
        escalated += 1
    proposed = demo_detection([t.start for t in manifest(config) if t.escalation != "tier3"])
    return loaded.events, escalated, proposed


def demo_detection(starts: list[datetime]) -> int:
    """Run continuous detection as the worker would have, every 15 s from each start for
    ``DEMO_DETECTION_MINUTES`` (stopping once it proposes something), so the demo opens with
    the incidents detection proposed during the simulated week, their evidence and linked
    tickets. Returns how many incidents were proposed."""
    from backline.escalation import services as escalation

    proposed = 0
    for start in sorted(starts):
        moment, end = start, start + timedelta(minutes=DEMO_DETECTION_MINUTES)
        while moment <= end:
            created = escalation.detect(now=moment)
            proposed += len(created)
            if created:
                # Later runs would link the tickets of users hit after detection: link now.
                for incident in created:
                    escalation.incident_link_sharing_tickets(
                        incident=incident, now=moment + DEMO_SCENARIO_SPAN
                    )
                break
            moment += DEMO_DETECTION_STEP
    return proposed
