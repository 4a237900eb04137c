"""The demo world loads through the real services, covers every status, and loads only once."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from backline.accounts.models import User
from backline.demo import DEMO_PASSWORD, PEOPLE
from backline.escalation.models import Incident
from backline.oncall.models import Rotation
from backline.tickets.choices import Status
from backline.tickets.models import Ticket

pytestmark = pytest.mark.django_db

SMALL = {"log_days": 1.0, "log_users": 300, "log_rate": 0.5}


@pytest.fixture(autouse=True)
def own_store(settings: Any, tmp_path: Path) -> None:
    """Each test gets an empty log store of its own."""
    settings.VAR_DIR = tmp_path


def test_demo_loads_people_rotations_and_tickets_in_every_status() -> None:
    out = StringIO()
    call_command("demo_load", stdout=out, **SMALL)
    for person in PEOPLE:
        user = User.objects.get(username=person.username)
        assert user.check_password(DEMO_PASSWORD)
        assert set(person.roles) <= user.roles
        assert person.username in out.getvalue()
    assert Rotation.objects.count() == 3
    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert statuses == set(Status.values)  # every status, New to Canceled
    # The simulated week: events in the store and one escalated ticket per scenario.
    assert "Log events loaded: 0" not in out.getvalue()
    assert "tickets escalated from the simulated scenarios: 6" in out.getvalue()
    # Detection replayed over the system-wide scenarios proposed what it found, as it would live.
    proposed = Incident.objects.count()
    assert f"Incidents proposed by detection during the simulated week: {proposed}" in (
        out.getvalue()
    )
    assert proposed >= 1
    assert set(Incident.objects.values_list("status", flat=True)) == {"proposed"}
    assert (
        Ticket.objects.filter(timeline__kind="escalated").distinct().count()
        == Ticket.objects.count()
    )


def test_demo_twice_changes_nothing() -> None:
    def counts() -> tuple[int, ...]:
        models = (User, Ticket, Rotation, Incident)
        return tuple(model.objects.count() for model in models)

    call_command("demo_load", stdout=StringIO(), **SMALL)
    first = counts()
    call_command("demo_load", stdout=StringIO(), **SMALL)
    assert counts() == first
