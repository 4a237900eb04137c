"""Calendar feeds: valid RFC 5545, stable UIDs, and the same person as the API at sampled instants."""

from __future__ import annotations

from datetime import datetime, timedelta

import icalendar
import pytest
import recurring_ical_events
from django.test import Client

from backline.accounts.models import User
from backline.conftest import ApiClient
from backline.errors import NotFound
from backline.oncall import services
from backline.oncall.tests.conftest import Clock, World, ny

pytestmark = pytest.mark.django_db


def _fetch(url: str) -> icalendar.Calendar:
    response = Client().get(url.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    return icalendar.Calendar.from_ical(response.content)


def _summaries_at(calendar: icalendar.Calendar, at: datetime) -> list[str]:
    return sorted(str(e["SUMMARY"]) for e in recurring_ical_events.of(calendar).at(at))


def test_rotation_feed_matches_the_api_at_sampled_instants(
    world: World, clock: Clock, erin: User, frank: User, maggie: User
) -> None:
    services.override_create(
        actor=erin,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 4, 8, 30),
        end=ny(2026, 12, 4, 13),
    )
    services.override_create(
        actor=maggie,
        rotation=world.tier3,
        person=erin,
        start=ny(2027, 3, 12, 0),
        end=ny(2027, 3, 16, 0),  # across the spring DST change
    )
    api = ApiClient(erin)
    created = api.post("oncall/feeds", {"rotation": world.tier3.pk, "name": "T3"})
    assert created.status_code == 201, created.json()
    calendar = _fetch(created.json()["url"])
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    events = list(calendar.walk("VEVENT"))
    assert events and all({"UID", "DTSTAMP", "DTSTART", "DTEND"} <= set(e) for e in events)
    assert len({str(e["UID"]) for e in events}) == len(events)

    instant = ny(2026, 12, 2, 12)  # before the rotation's first handoff: nobody
    samples = [instant + timedelta(hours=7 * k + 0.5) for k in range(0, 24 * 7 * 20 // 7, 3)]
    samples += [
        ny(2026, 12, 4, 8, 29),
        ny(2026, 12, 4, 8, 30),
        ny(2026, 12, 4, 12, 59),
        ny(2026, 12, 4, 13),
        ny(2027, 3, 14, 3),
        ny(2027, 3, 16, 0),
    ]
    checked = 0
    for at in samples:
        answer = api.get("oncall/at", role="tier3", at=at.isoformat()).json()
        expected = (
            [f"Tier 3 support on-call: {answer['person']['name']}"] if answer["person"] else []
        )
        assert _summaries_at(calendar, at) == expected, at
        checked += bool(expected)
    assert checked > 50


def test_person_feed_lists_only_their_shifts_and_uids_are_stable(
    world: World, clock: Clock, erin: User, frank: User
) -> None:
    _token, secret = services.feed_token_create(actor=erin, person=erin)
    url = f"/oncall/feeds/{secret}.ics"
    first = _fetch(url)
    summaries = {str(e["SUMMARY"]) for e in first.walk("VEVENT")}
    assert summaries == {"Tier 3 support on-call: Erin"}
    clock.set(clock.at + timedelta(days=3))
    second = _fetch(url)
    starts = {str(e["UID"]): e.decoded("DTSTART") for e in first.walk("VEVENT")}
    again = {str(e["UID"]): e.decoded("DTSTART") for e in second.walk("VEVENT")}
    shared = set(starts) & set(again)
    assert shared and all(starts[uid] == again[uid] for uid in shared)
    # The first event is the whole shift, not clipped at the window's edge.
    assert min(starts.values()) == ny(2026, 12, 3, 9)


def test_revoked_or_unknown_feeds_are_404(world: World, erin: User, frank: User) -> None:
    token, secret = services.feed_token_create(actor=erin, rotation=world.tier3)
    assert Client().get(f"/oncall/feeds/{secret}.ics").status_code == 200
    with pytest.raises(NotFound, match="no calendar feed"):
        services.feed_token_revoke(actor=frank, token_id=token.pk)
    services.feed_token_revoke(actor=erin, token_id=token.pk)
    assert Client().get(f"/oncall/feeds/{secret}.ics").status_code == 404
    assert Client().get("/oncall/feeds/blf_nope.ics").status_code == 404
