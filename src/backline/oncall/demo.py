"""Demo on-call world: the three rotations of the seed with a few overrides.

Tier 3 (4 engineers, weekdays 09:00-17:00 without federal holidays), Monitoring (5, round the
clock) and Investigator (4, business hours), all weekly with the Thursday 09:00 handoff in
America/New_York. Frank holds two roles (Tier 3 and Monitoring). Everything goes through the real
services; running it twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from backline.accounts.models import Team, User
from backline.accounts.roles import Role
from backline.accounts.services import user_create
from backline.calendars.models import Calendar
from backline.oncall import selectors, services
from backline.oncall.models import OncallRole, Rotation

ZONE = "America/New_York"

# username, display name, role, team slug
EXTRA_PEOPLE = (
    ("tara", "Tara Tracer", Role.TIER3, "tier-3-support"),
    ("theo", "Theo Triage", Role.TIER3, "tier-3-support"),
    ("mike", "Mike Metrics", Role.MONITORING, "monitoring"),
    ("mira", "Mira Alerts", Role.MONITORING, "monitoring"),
    ("max", "Max Uptime", Role.MONITORING, "monitoring"),
    ("iris", "Iris Insight", Role.INVESTIGATOR, "investigator"),
    ("ines", "Ines Patterns", Role.INVESTIGATOR, "investigator"),
    ("igor", "Igor Diff", Role.INVESTIGATOR, "investigator"),
)

ROTATIONS = (
    (
        "Tier 3 support",
        OncallRole.TIER3,
        "tier-3-support",
        "US business hours",
        ("erin", "frank", "tara", "theo"),
    ),
    (
        "Monitoring",
        OncallRole.MONITORING,
        "monitoring",
        None,
        ("mona", "mike", "frank", "mira", "max"),
    ),
    (
        "Investigator",
        OncallRole.INVESTIGATOR,
        "investigator",
        "US business hours",
        ("ivan", "iris", "ines", "igor"),
    ),
)


def _extra_people(people: dict[str, User], password: str) -> dict[str, User]:
    everyone = dict(people)
    for username, name, role, slug in EXTRA_PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            team, _ = Team.objects.get_or_create(
                slug=slug, defaults={"name": slug.replace("-", " ").title(), "role": role}
            )
            user = user_create(
                username=username,
                password=password,
                roles=[role],
                display_name=name,
                email=f"{username}@backline.example",
                teams=[team],
            )
        everyone[username] = user
    return everyone


def _first_thursday_before(now: datetime, weeks: int) -> datetime:
    local = now.astimezone(ZoneInfo(ZONE)) - timedelta(weeks=weeks)
    return local - timedelta(days=(local.weekday() - 3) % 7)


@transaction.atomic
def demo_rotations(people: dict[str, User], *, now: datetime | None = None) -> int:
    """Create the three demo rotations and a few overrides; returns how many rotations were made
    (0 when any rotation exists already). `people` must include maggie (the manager)."""
    from backline.demo import DEMO_PASSWORD

    if Rotation.objects.exists():
        return 0
    now = now or timezone.now()
    everyone = _extra_people(people, DEMO_PASSWORD)
    manager = everyone["maggie"]
    start = _first_thursday_before(now, 4).date()
    made: dict[OncallRole, Rotation] = {}
    for name, role, slug, calendar_name, usernames in ROTATIONS:
        team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "role": role})
        calendar = Calendar.objects.filter(name=calendar_name).first() if calendar_name else None
        made[role] = services.rotation_create(
            actor=manager,
            fields={
                "name": name,
                "role": role.value,
                "team": team,
                "time_zone": ZONE,
                "start_date": start,
                "handoff_weekday": 3,
                "handoff_time": time(9),
                "coverage": calendar,
            },
            members=[everyone[u] for u in usernames],
            now=now,
        )
    _demo_overrides(made, everyone, manager, now)
    return len(made)


def _demo_overrides(
    rotations: dict[OncallRole, Rotation], everyone: dict[str, User], manager: User, now: datetime
) -> None:
    """A vacation day, a covered night and a half-day trade, placed on the real upcoming shifts."""
    horizon = now + timedelta(weeks=6)
    plans = (
        (OncallRole.TIER3, "erin", "tara", timedelta(days=1), timedelta(hours=24), "Vacation day"),
        (
            OncallRole.MONITORING,
            "mona",
            "mike",
            timedelta(hours=10),
            timedelta(hours=12),
            "Covering a night",
        ),
        (
            OncallRole.INVESTIGATOR,
            "ivan",
            "igor",
            timedelta(days=2),
            timedelta(hours=4),
            "Dentist appointment",
        ),
    )
    for role, who, cover, offset, length, reason in plans:
        rotation = rotations[role]
        shifts = selectors.rotation_shifts(rotation=rotation, start=now, end=horizon)
        mine = next((s for s in shifts if s.person.username == who and s.start > now), None)
        if mine is None:
            continue
        start = mine.start + offset
        services.override_create(
            actor=manager,
            rotation=rotation,
            person=everyone[cover],
            replaces=everyone[who],
            start=start,
            end=min(start + length, mine.end),
            reason=reason,
            now=now,
        )
