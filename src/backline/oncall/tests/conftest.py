"""On-call test world: a settable clock and the three rotations, built through the services.

Tier 3 "T3": erin, frank; weekly, Thursday 09:00 America/New_York from 2026-12-03, coverage the
"US business hours" calendar (weekdays 09-17, federal holidays). So erin is on call
Dec 3-10, frank Dec 10-17, erin Dec 17-24 ...
Monitoring "MON": mona alone, round the clock. Investigator "INV": ivan, business hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from backline.accounts.models import Team, User
from backline.accounts.roles import Role
from backline.calendars.models import Calendar
from backline.oncall import services
from backline.oncall.models import OncallRole, Rotation
from backline.tickets.defaults import BUSINESS_HOURS, install_defaults
from backline.tickets.models import SlaPolicy

NY = ZoneInfo("America/New_York")


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


class Clock:
    """What `timezone.now()` returns while a test runs (services, auto_now fields, the API)."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def set(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    fake = Clock(ny(2026, 12, 1, 12))
    monkeypatch.setattr(timezone, "now", fake)
    yield fake


@dataclass
class World:
    tier3: Rotation
    monitoring: Rotation
    investigator: Rotation


def _team(slug: str, role: Role) -> Team:
    return Team.objects.get_or_create(slug=slug, defaults={"name": slug, "role": role})[0]


def make_rotation(
    manager: User, name: str, role: OncallRole, members: list[User], **fields: Any
) -> Rotation:
    base: dict[str, Any] = {
        "name": name,
        "role": role.value,
        "team": _team(f"team-{role.value}", role.person_role),
        "start_date": date(2026, 12, 3),
        "time_zone": "America/New_York",
    }
    base.update(fields)
    return services.rotation_create(actor=manager, fields=base, members=members)


def business_calendar() -> Calendar:
    """The migration's "US business hours" calendar (recreated after a transactional test's
    flush removed it)."""
    install_defaults(Calendar, SlaPolicy)
    return Calendar.objects.get(name=BUSINESS_HOURS)


@pytest.fixture
def world(clock: Clock, maggie: User, erin: User, frank: User, mona: User, ivan: User) -> World:
    business = business_calendar()
    return World(
        tier3=make_rotation(maggie, "T3", OncallRole.TIER3, [erin, frank], coverage=business),
        monitoring=make_rotation(maggie, "MON", OncallRole.MONITORING, [mona]),
        investigator=make_rotation(
            maggie, "INV", OncallRole.INVESTIGATOR, [ivan], coverage=business
        ),
    )


@pytest.fixture
def escalate(sam: User, tier3_context: dict[str, Any]) -> Callable[..., Any]:
    """Open a ticket at Tier 2 and escalate it to Tier 3 (routing runs in the escalation)."""
    from backline.tickets import services as tickets

    def run(**changes: Any) -> Any:
        context = dict(tier3_context)
        context.update(changes)
        ticket = tickets.ticket_create(actor=sam, fields=context, tier=2)
        return tickets.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)

    return run
