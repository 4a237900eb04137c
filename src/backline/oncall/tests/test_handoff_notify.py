"""Handoffs notify: a reminder the day before and an hour before, the report posted when the record
is created, a notice when the incoming engineer acknowledges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backline.accounts.models import User
from backline.notify.models import Channel, ChannelKind, Delivery, Event
from backline.oncall import handoff as handoffs
from backline.oncall import tasks
from backline.oncall.models import Rotation
from backline.oncall.tests.conftest import Clock, World, ny

pytestmark = pytest.mark.django_db

BOUNDARY = ny(2026, 12, 10, 9)  # erin -> frank


@pytest.fixture
def emails(erin: User, frank: User) -> None:
    for person in (erin, frank):
        person.email = f"{person.username}@backline.example"
        person.save(update_fields=["email"])


@pytest.fixture
def team_channel(settings: object) -> Channel:
    settings.NOTIFY_SLACK_WEBHOOK_HOSTS = ["127.0.0.1"]  # type: ignore[attr-defined]
    return Channel.objects.create(
        kind=ChannelKind.SLACK,
        name="#mhv-tier-3-support",
        role="tier3",
        webhook_url="http://127.0.0.1:9/services/T000/B000/secret",
    )


def events_to(user: User, event: str) -> int:
    return Delivery.objects.filter(event=event, recipient=user).count()


def test_reminders_go_to_both_engineers_and_only_while_the_boundary_is_current(
    world: World, clock: Clock, emails: None, erin: User, frank: User
) -> None:
    first = Rotation.objects.get(pk=world.tier3.pk).handoff_task_at
    assert first == ny(2026, 12, 3, 9)  # the rotation's start: nobody hands over yet
    clock.set(first + timedelta(minutes=1))
    tasks.handoff_boundary_task.call(world.tier3.pk, first.isoformat())
    rotation = Rotation.objects.get(pk=world.tier3.pk)
    assert rotation.handoff_task_at == BOUNDARY
    clock.set(BOUNDARY - timedelta(days=1))
    assert tasks.handoff_reminder_task.call(rotation.pk, BOUNDARY.isoformat(), "day") > 0
    assert events_to(erin, Event.HANDOFF_REMINDER) == 1
    assert events_to(frank, Event.HANDOFF_REMINDER) == 1
    # A stale reminder (for a boundary the chain no longer points at) does nothing.
    stale = BOUNDARY - timedelta(days=7)
    assert tasks.handoff_reminder_task.call(rotation.pk, stale.isoformat(), "hour") == 0


def test_upcoming_handoff_names_who_hands_over_to_whom(
    world: World, erin: User, frank: User
) -> None:
    upcoming = tasks.upcoming_handoff(world.tier3, BOUNDARY)
    assert upcoming is not None
    assert (upcoming.outgoing, upcoming.incoming, upcoming.at) == (erin, frank, BOUNDARY)


def test_report_is_posted_when_created_and_a_notice_when_acknowledged(
    world: World, clock: Clock, emails: None, team_channel: Channel, erin: User, frank: User
) -> None:
    clock.set(BOUNDARY + timedelta(minutes=5))
    [handoff] = handoffs.handoff_create_due(now=BOUNDARY + timedelta(minutes=5))
    report = Delivery.objects.get(event=Event.HANDOFF_REPORT)
    assert report.channel == ChannelKind.SLACK
    assert "Erin" in str(report.payload) and "Frank" in str(report.payload)
    handoffs.handoff_acknowledge(actor=frank, handoff=handoff, now=BOUNDARY + timedelta(minutes=30))
    assert Delivery.objects.filter(event=Event.HANDOFF_ACKNOWLEDGED).exists()
