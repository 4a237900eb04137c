"""On-call web pages: the strip on every page, schedules, rotations, overrides, swaps, handoffs,
fairness and calendar feeds, each with who may and who may not, forms with errors, and bad input
that must not become a 500.

The world (conftest): T3 erin/frank weekly from Thu 2026-12-03 09:00 New York, business hours;
MON mona round the clock; INV ivan business hours. Erin is on call Dec 3-10, frank Dec 10-17.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from backline.accounts.models import User
from backline.oncall import handoff as handoffs
from backline.oncall import services
from backline.oncall.models import FeedToken, Handoff, Override, Rotation, SwapRequest
from backline.oncall.tests.conftest import Clock, World, business_calendar, ny
from backline.tickets.models import Ticket
from backline.web.context import on_call_strip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_strip_cache() -> Iterator[None]:
    """The strip is cached per minute; tests with the same fake clock must not share answers."""
    cache.clear()
    yield
    cache.clear()


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return str(response.content.decode())


def text(response: Any) -> str:
    """The page's words without tags, whitespace collapsed (for sentences split by markup)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html(response)).split())


def week(role: str = "tier3", start: str = "2026-11-30", view: str = "week") -> str:
    return f"/oncall/{role}/?view={view}&start={start}"


# --- the strip on every page ------------------------------------------------------------------


def test_every_page_shows_who_is_on_call_now_and_coverage(
    world: World, clock: Clock, sam: User
) -> None:
    clock.set(ny(2026, 12, 8, 10))  # Tuesday: all three inside coverage
    page = text(signed_in(sam).get("/tickets/queue/2/"))
    assert "On call now" in page
    assert "Tier 3 support : Erin In coverage" in page
    assert "Monitoring : Mona In coverage" in page
    assert "Investigator : Ivan In coverage" in page

    cache.clear()
    clock.set(ny(2026, 12, 12, 10))  # Saturday: business-hours roles are outside coverage
    page = text(signed_in(sam).get("/tickets/queue/2/"))
    assert "Tier 3 support : Frank Outside coverage opens Mon Dec 14 09:00" in page
    assert "Monitoring : Mona In coverage" in page


def test_the_strip_is_not_shown_to_people_without_a_role_or_signed_out(
    world: World, nobody: User, client: Client
) -> None:
    assert "On call now" not in html(signed_in(nobody).get("/"))
    assert "On call now" not in html(client.get("/login/"))


def test_the_strip_says_when_a_role_has_nobody(clock: Clock, sam: User) -> None:
    page = text(signed_in(sam).get("/tickets/queue/2/"))
    assert "Tier 3 support : No rotation" in page


def test_the_strip_costs_two_queries_when_cached_and_follows_edits_at_once(
    world: World, clock: Clock, maggie: User, erin: User, frank: User
) -> None:
    clock.set(ny(2026, 12, 8, 10))
    assert on_call_strip()[0].person == "Erin"
    with CaptureQueriesContext(connection) as captured:
        assert on_call_strip()[0].person == "Erin"
    assert len(captured) <= 2
    services.override_create(
        actor=maggie,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 8, 9),
        end=ny(2026, 12, 8, 12),
    )
    tier3 = on_call_strip()[0]
    assert (tier3.person, tier3.is_override) == ("Frank", True)


def test_the_header_links_to_on_call_and_marks_it_current(world: World, erin: User) -> None:
    client = signed_in(erin)
    assert 'href="/oncall/"><span>On-call</span>' in html(client.get("/tickets/queue/3/"))
    page = html(client.get(week()))
    assert re.search(r'usa-current" href="/oncall/" aria-current="page"><span>On-call', page)


# --- schedule ---------------------------------------------------------------------------------


def test_week_view_shows_shifts_overrides_and_gaps_per_day(
    world: World, clock: Clock, maggie: User, erin: User, frank: User, tina: User
) -> None:
    services.override_create(
        actor=maggie,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 4, 12),
        end=ny(2026, 12, 4, 14),
        reason="Dentist",
    )
    response = signed_in(tina).get(week())
    assert response.status_code == 200
    page = text(response)
    # Tuesday Dec 1 is before the first handoff: its coverage hours are a gap, in words.
    assert "Tuesday, December 1 (today) Has a gap" in page
    assert "09:00-17:00 Gap Nobody - Gap: nobody on call inside coverage hours" in page
    # Thursday Dec 3: the rotation starts at 09:00 with erin; no gap after that.
    assert "Thursday, December 3 Has a gap" not in page  # 00:00-09:00 is outside coverage
    assert "09:00-24:00 Erin T3 Scheduled turn, goes on the next day" in page
    # Friday Dec 4: the override splits erin's day into three rows.
    friday = page.split("Friday, December 4")[1].split("Saturday, December 5")[0]
    assert "00:00-12:00 Erin T3" in friday
    assert "12:00-14:00 Frank T3 Override Override: Frank replaces Erin" in friday
    assert "14:00-24:00 Erin T3" in friday
    assert "Has a gap" not in friday
    # Stored overrides are listed; tina (Tier 1) may not remove them.
    assert "Dentist" in page and "Remove" not in page
    body = html(response)
    assert 'href="/oncall/tier3/?view=week&amp;start=2026-11-23"' in body  # previous
    assert 'href="/oncall/tier3/?view=week&amp;start=2026-12-07"' in body  # next
    assert "<caption" in body and 'scope="col"' in body and 'scope="row"' in body


def test_times_are_in_the_viewers_time_zone(world: World, erin: User) -> None:
    erin.time_zone = "America/Chicago"
    erin.save(update_fields=["time_zone"])
    page = text(signed_in(erin).get(week(start="2026-12-07")))
    thursday = page.split("Thursday, December 10")[1].split("Friday, December 11")[0]
    assert "00:00-08:00 Erin" in thursday and "08:00-24:00 Frank" in thursday


def test_month_view_lists_every_day_with_gaps(world: World, tina: User) -> None:
    response = signed_in(tina).get(week(view="month", start="2026-12-17"))
    assert response.status_code == 200
    page = text(response)
    assert "December 2026" in page
    for day in ("Tue 1", "Thu 31"):
        assert day in page
    assert "Tue 1 (today) Nobody scheduled Gap 09:00-17:00" in page
    assert "Thu 10 00:00-09:00 Erin 09:00-24:00 Frank None" in page
    assert 'href="/oncall/tier3/?view=month&amp;start=2026-11-01"' in html(response)
    assert 'href="/oncall/tier3/?view=month&amp;start=2027-01-01"' in html(response)


@pytest.mark.parametrize(
    "query",
    [
        "?view=year",
        "?start=not-a-date",
        "?start=0001-01-01",
        "?start=9999-12-31&view=month",
        "?start=2026-02-30",
        "?view=week&start=" + "9" * 300,
    ],
)
def test_bad_schedule_input_is_an_error_message_not_a_500(
    world: World, tina: User, query: str
) -> None:
    response = signed_in(tina).get("/oncall/tier3/" + query)
    assert response.status_code == 200
    assert "Some choices were not understood" in html(response)


def test_unknown_role_and_roleless_people_are_refused(
    world: World, nobody: User, tina: User
) -> None:
    assert signed_in(tina).get("/oncall/boss/").status_code == 404
    assert signed_in(nobody).get("/oncall/tier3/").status_code == 403
    assert signed_in(nobody).get("/oncall/").status_code == 403
    assert Client().get("/oncall/tier3/").status_code == 302  # to the sign-in page


def test_schedule_queries_do_not_grow_with_shifts(
    world: World, clock: Clock, maggie: User, erin: User, frank: User, tina: User
) -> None:
    client = signed_in(tina)
    url = week(view="month", start="2026-12-01")

    def queries() -> tuple[int, int]:
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200
        return len(captured), html(response).count("<li>")

    few, rows_before = queries()
    services.rotation_update(
        actor=maggie, rotation=world.tier3, fields={"shift_unit": "hours", "shift_count": 6}
    )
    for day in range(8, 20):
        services.override_create(
            actor=maggie,
            rotation=world.tier3,
            person=frank,
            start=ny(2026, 12, day, 10),
            end=ny(2026, 12, day, 11),
        )
    many, rows_after = queries()
    assert rows_after > rows_before + 50  # many more shifts on the page ...
    assert many == few  # ... for the same number of queries


def test_overview_shows_now_and_gaps_for_every_role(world: World, clock: Clock, erin: User) -> None:
    page = text(signed_in(erin).get("/oncall/"))
    assert "Who is on call now" in page
    assert "Gaps in the next 30 days" in page
    # Dec 1 12:00: Tier 3 and Investigator have no turn before Dec 3 09:00.
    assert "Tue Dec 01, 2026 12:00 EST to Tue Dec 01, 2026 17:00 EST (5.0 h)" in page
    assert "Monitoring No gaps" not in page  # mona's rotation also starts Dec 3: 24x7 gap
    assert "Add an override" in page


# --- rotations --------------------------------------------------------------------------------


def rotation_post(**changes: Any) -> dict[str, Any]:
    from backline.accounts.models import Team

    team = Team.objects.get_or_create(slug="t3", defaults={"name": "Tier 3", "role": "tier3"})[0]
    data = {
        "name": "Tier 3 nights",
        "role": "tier3",
        "team": team.pk,
        "time_zone": "America/Chicago",
        "shift_count": "1",
        "shift_unit": "weeks",
        "handoff_weekday": "4",
        "handoff_time": "08:00",
        "start_date": "2026-12-04",
        "coverage": business_calendar().pk,
        "members": "frank\nerin\n",
    }
    data.update(changes)
    return data


def test_managers_create_rotations_with_members_in_order(
    clock: Clock, maggie: User, erin: User, frank: User, tina: User
) -> None:
    client = signed_in(maggie)
    assert client.get("/oncall/rotations/new/").status_code == 200
    response = client.post("/oncall/rotations/new/", rotation_post())
    assert response.status_code == 302 and response["Location"] == "/oncall/rotations/"
    rotation = Rotation.objects.get(name="Tier 3 nights")
    assert [m.user.username for m in rotation.members.order_by("position")] == ["frank", "erin"]
    assert (rotation.handoff_weekday, rotation.time_zone) == (4, "America/Chicago")
    listing = text(signed_in(tina).get("/oncall/rotations/"))
    assert "Tier 3 nights" in listing and "Frank Erin" in listing and "Edit" not in listing


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not an IANA time zone"),
        ({"members": "erin\nghost"}, "members", "Unknown usernames: ghost."),
        ({"members": "erin\nmona"}, "members", "does not hold the Tier 3 engineer role"),
        ({"members": "erin\nerin"}, "members", "is listed twice"),
        ({"shift_count": "0"}, "shift_count", ""),
        ({"shift_count": "500", "shift_unit": "days"}, "shift_count", "1 to 56 days"),
        ({"name": ""}, "name", "required"),
        ({"start_date": "2026-13-01"}, "start_date", ""),
        ({"handoff_time": "25:00"}, "handoff_time", ""),
        ({"role": "boss"}, "role", ""),
    ],
)
def test_rotation_errors_are_shown_next_to_the_field(
    clock: Clock,
    maggie: User,
    erin: User,
    frank: User,
    mona: User,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = signed_in(maggie).post("/oncall/rotations/new/", rotation_post(**change))
    assert response.status_code == 422
    page = html(response)
    assert f'id="id_{field}-error"' in page, page
    assert message in page
    assert f'href="#id_{field}"' in page  # the error summary links to the field
    assert not Rotation.objects.filter(name="Tier 3 nights").exists()


def test_duplicate_rotation_name_is_a_field_error(world: World, maggie: User) -> None:
    response = signed_in(maggie).post("/oncall/rotations/new/", rotation_post(name="T3"))
    assert response.status_code == 422
    assert 'id="id_name-error"' in html(response) and "already exists" in html(response)


def test_managers_edit_and_retire_rotations(
    world: World, maggie: User, erin: User, frank: User
) -> None:
    client = signed_in(maggie)
    url = f"/oncall/rotations/{world.tier3.pk}/edit/"
    form = html(client.get(url))
    assert "erin\nfrank</textarea>" in form and 'value="America/New_York"' in form
    data = rotation_post(name="T3", team=world.tier3.team_id, members="frank\nerin")
    assert client.post(url, data).status_code == 302
    assert [m.user.username for m in world.tier3.members.order_by("position")] == ["frank", "erin"]
    assert client.post(f"/oncall/rotations/{world.tier3.pk}/retire/").status_code == 302
    world.tier3.refresh_from_db()
    assert world.tier3.is_active is False
    assert client.get("/oncall/rotations/999/edit/").status_code == 404


@pytest.mark.parametrize("person", ["erin", "tina", "nobody"])
def test_only_managers_and_admins_change_rotations(
    world: World, make_person: Callable[[str], User], person: str
) -> None:
    client = signed_in(make_person(person))
    assert client.get("/oncall/rotations/new/").status_code == 403
    assert client.post("/oncall/rotations/new/", rotation_post()).status_code == 403
    assert client.post(f"/oncall/rotations/{world.tier3.pk}/edit/", {}).status_code == 403
    assert client.post(f"/oncall/rotations/{world.tier3.pk}/retire/").status_code == 403
    assert Rotation.objects.get(pk=world.tier3.pk).is_active


def test_admins_may_create_rotations(clock: Clock, ada: User, erin: User, frank: User) -> None:
    assert signed_in(ada).post("/oncall/rotations/new/", rotation_post()).status_code == 302


# --- overrides --------------------------------------------------------------------------------


def override_post(world: World, who: User, **changes: Any) -> dict[str, Any]:
    data = {
        "rotation": world.tier3.pk,
        "person": who.pk,
        "start": "2026-12-04T12:00",
        "end": "2026-12-04T14:00",
        "reason": "Dentist",
    }
    data.update(changes)
    return data


def test_engineers_hand_over_their_own_shift(world: World, erin: User, frank: User) -> None:
    client = signed_in(erin)
    form = html(client.get(f"/oncall/overrides/new/?rotation={world.tier3.pk}"))
    assert 'name="replaces"' not in form  # always themselves
    response = client.post("/oncall/overrides/new/", override_post(world, frank))
    assert response.status_code == 302
    assert response["Location"] == "/oncall/tier3/?view=week&start=2026-12-04"
    override = Override.objects.get()
    assert (override.person, override.replaces, override.created_by) == (frank, erin, erin)
    assert override.start == ny(2026, 12, 4, 12)  # read in erin's zone (New York)
    page = text(client.get(response["Location"]))
    assert "Override: Frank replaces Erin" in page
    assert "Remove the override of Frank" in page


def test_override_for_a_shift_that_is_not_mine_is_an_error(
    world: World, erin: User, frank: User
) -> None:
    # Dec 11 is frank's week.
    response = signed_in(erin).post(
        "/oncall/overrides/new/",
        override_post(world, frank, start="2026-12-11T12:00", end="2026-12-11T13:00"),
    )
    assert response.status_code == 422
    assert "Erin is not scheduled on T3 in that window" in html(response)
    assert not Override.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end": "2026-12-04T11:00"}, "end"),
        ({"start": "2026-03-08T02:30"}, "start"),  # does not exist in New York (DST gap)
        ({"start": "yesterday"}, "start"),
        ({"rotation": "999"}, "rotation"),
        ({"person": "999"}, "person"),
    ],
)
def test_override_form_errors_name_the_field(
    world: World, erin: User, frank: User, change: dict[str, str], field: str
) -> None:
    response = signed_in(erin).post("/oncall/overrides/new/", override_post(world, frank, **change))
    assert response.status_code == 422
    assert f'id="id_{field}-error"' in html(response)


def test_managers_override_anyone_and_people_without_shifts_may_not(
    world: World, maggie: User, erin: User, frank: User, sam: User
) -> None:
    assert 'name="replaces"' in html(signed_in(maggie).get("/oncall/overrides/new/"))
    response = signed_in(maggie).post(
        "/oncall/overrides/new/",
        override_post(world, frank, replaces=erin.pk),
    )
    assert response.status_code == 302
    assert Override.objects.get().created_by == maggie
    assert signed_in(sam).get("/oncall/overrides/new/").status_code == 403
    assert (
        signed_in(sam).post("/oncall/overrides/new/", override_post(world, frank)).status_code
        == 403
    )
    assert Override.objects.count() == 1


def test_removing_an_override(
    world: World, maggie: User, erin: User, frank: User, mona: User
) -> None:
    override = services.override_create(
        actor=erin,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 4, 12),
        end=ny(2026, 12, 4, 14),
    )
    url = f"/oncall/overrides/{override.pk}/delete/"
    refused = signed_in(mona).post(url)
    assert refused.status_code == 409 and "Only its creator" in html(refused)
    back = week(start="2026-11-30")
    response = signed_in(erin).post(url, {"next": back})
    assert response.status_code == 302 and response["Location"] == back
    assert not Override.objects.exists()
    assert signed_in(erin).post(url).status_code == 404
    override = services.override_create(
        actor=erin,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 4, 12),
        end=ny(2026, 12, 4, 14),
    )
    evil = signed_in(maggie).post(
        f"/oncall/overrides/{override.pk}/delete/", {"next": "https://evil.example/"}
    )
    assert evil["Location"] == "/oncall/tier3/?view=week"  # not an open redirect


# --- swaps ------------------------------------------------------------------------------------


def test_swap_request_accept_and_the_overrides(world: World, erin: User, frank: User) -> None:
    erin_client, frank_client = signed_in(erin), signed_in(frank)
    form = html(erin_client.get("/oncall/swaps/"))
    assert "Ask for the swap" in form
    response = erin_client.post(
        "/oncall/swaps/",
        {
            "rotation": world.tier3.pk,
            "counterpart": frank.pk,
            "start": "2026-12-07T09:00",
            "end": "2026-12-08T09:00",
            "return_start": "2026-12-14T09:00",
            "return_end": "2026-12-15T09:00",
            "message": "Family visit",
        },
    )
    assert response.status_code == 302
    swap = SwapRequest.objects.get()
    mine = text(frank_client.get("/oncall/swaps/"))
    assert "Family visit" in mine and f"Accept swap {swap.pk}" in mine
    assert f"Accept swap {swap.pk}" not in text(erin_client.get("/oncall/swaps/"))
    refused = erin_client.post(f"/oncall/swaps/{swap.pk}/accept/")
    assert refused.status_code == 409 and "Only the person asked" in html(refused)
    assert frank_client.post(f"/oncall/swaps/{swap.pk}/accept/").status_code == 302
    assert {(o.person, o.replaces) for o in Override.objects.all()} == {
        (frank, erin),
        (erin, frank),
    }
    again = frank_client.post(f"/oncall/swaps/{swap.pk}/decline/")
    assert again.status_code == 409 and "already accepted" in html(again)


def test_swap_cancel_decline_and_strangers(
    world: World, erin: User, frank: User, mona: User
) -> None:
    def ask() -> SwapRequest:
        return services.swap_request(
            actor=erin,
            rotation=world.tier3,
            counterpart=frank,
            start=ny(2026, 12, 7, 9),
            end=ny(2026, 12, 8, 9),
        )

    first = ask()
    assert signed_in(erin).post(f"/oncall/swaps/{first.pk}/cancel/").status_code == 302
    second = ask()
    assert signed_in(frank).post(f"/oncall/swaps/{second.pk}/decline/").status_code == 302
    assert [s.status for s in SwapRequest.objects.order_by("pk")] == ["canceled", "declined"]
    assert signed_in(mona).post(f"/oncall/swaps/{second.pk}/accept/").status_code == 404
    assert signed_in(frank).post(f"/oncall/swaps/{second.pk}/approve/").status_code == 404
    assert not Override.objects.exists()


def test_swap_form_errors_and_people_without_shifts(
    world: World, erin: User, frank: User, sam: User
) -> None:
    response = signed_in(erin).post(
        "/oncall/swaps/",
        {
            "rotation": world.tier3.pk,
            "counterpart": frank.pk,
            "start": "2026-12-07T09:00",
            "end": "2026-12-08T09:00",
            "return_start": "2026-12-14T09:00",
        },
    )
    assert response.status_code == 422
    assert 'id="id_return_end-error"' in html(response)
    assert "Ask for the swap" not in html(signed_in(sam).get("/oncall/swaps/"))
    assert signed_in(sam).post("/oncall/swaps/", {}).status_code == 403
    assert not SwapRequest.objects.exists()


# --- handoffs ---------------------------------------------------------------------------------


@pytest.fixture
def handoff(world: World, clock: Clock, escalate: Callable[..., Ticket]) -> Handoff:
    clock.set(ny(2026, 12, 8, 10))
    escalate(title="RX - refill fails", priority="high")
    clock.set(ny(2026, 12, 10, 9, 1))
    [made] = handoffs.handoff_create_due()
    return made


def test_handoff_page_notes_acknowledge_and_markdown(
    handoff: Handoff, erin: User, frank: User, mona: User
) -> None:
    ticket = Ticket.objects.get(title="RX - refill fails")
    erin_client, frank_client = signed_in(erin), signed_in(frank)

    listing = text(frank_client.get("/oncall/handoffs/"))
    assert "My handoffs" in listing and "Waiting for acknowledgement" in listing
    page = text(erin_client.get(f"/oncall/handoffs/{handoff.pk}/"))
    assert "Handoff: Erin to Frank" in page
    assert f"{ticket.number} RX - refill fails High New" in page
    assert "Save notes" in page and "Acknowledge the handoff" not in page

    assert (
        erin_client.post(
            f"/oncall/handoffs/{handoff.pk}/notes/", {"notes": "Call VistA on Monday."}
        ).status_code
        == 302
    )
    refused = frank_client.post(f"/oncall/handoffs/{handoff.pk}/notes/", {"notes": "mine"})
    assert refused.status_code == 409 and "Only the outgoing engineer" in html(refused)
    too_long = erin_client.post(f"/oncall/handoffs/{handoff.pk}/notes/", {"notes": "x" * 20001})
    assert too_long.status_code == 422 and 'id="id_notes-error"' in html(too_long)

    download = frank_client.get(f"/oncall/handoffs/{handoff.pk}/markdown/")
    assert download["Content-Type"].startswith("text/markdown")
    assert download["Content-Disposition"] == f'attachment; filename="handoff-{handoff.pk}.md"'
    assert "Call VistA on Monday." in download.content.decode()

    page = text(frank_client.get(f"/oncall/handoffs/{handoff.pk}/"))
    assert "Call VistA on Monday." in page and "Acknowledge the handoff" in page
    assert erin_client.post(f"/oncall/handoffs/{handoff.pk}/acknowledge/").status_code == 409
    done = frank_client.post(f"/oncall/handoffs/{handoff.pk}/acknowledge/", follow=True)
    assert "Handoff acknowledged. 1 ticket moved to you" in text(done)
    assert Ticket.objects.get(pk=ticket.pk).assignee == frank
    again = frank_client.post(f"/oncall/handoffs/{handoff.pk}/acknowledge/")
    assert again.status_code == 409 and "already acknowledged" in html(again)

    watcher = text(signed_in(mona).get(f"/oncall/handoffs/{handoff.pk}/"))
    assert "Save notes" not in watcher and "Acknowledge the handoff" not in watcher


def test_pending_handoff_banner_for_the_incoming_engineer(
    handoff: Handoff, erin: User, frank: User
) -> None:
    assert "You have a handoff to acknowledge" in html(signed_in(frank).get("/oncall/"))
    assert "You have a handoff to acknowledge" not in html(signed_in(erin).get("/oncall/"))


@pytest.mark.parametrize("person", ["tina", "sam", "nobody"])
def test_handoffs_are_for_engineers_and_leads(
    handoff: Handoff, make_person: Callable[[str], User], person: str
) -> None:
    client = signed_in(make_person(person))
    assert client.get("/oncall/handoffs/").status_code == 403
    assert client.get(f"/oncall/handoffs/{handoff.pk}/").status_code == 403
    assert client.get(f"/oncall/handoffs/{handoff.pk}/markdown/").status_code == 403
    assert client.post(f"/oncall/handoffs/{handoff.pk}/acknowledge/").status_code == 403


def test_unknown_handoff_is_not_found(handoff: Handoff, maggie: User) -> None:
    assert signed_in(maggie).get("/oncall/handoffs/999/").status_code == 404
    assert signed_in(maggie).get(f"/oncall/handoffs/{handoff.pk}/").status_code == 200


# --- fairness ---------------------------------------------------------------------------------


def test_fairness_report_per_person(world: World, clock: Clock, tina: User) -> None:
    clock.set(ny(2026, 12, 20, 12))
    response = signed_in(tina).get("/oncall/fairness/?role=tier3&start=2026-12-03&end=2026-12-16")
    assert response.status_code == 200
    page = text(response)
    # Whole local days Dec 3-16: erin Dec 3 09:00-10 09:00 (168 h), frank from Dec 10 09:00.
    assert "Erin 168.0 1 0 0.0 40.0" in page
    assert "Frank 159.0 1 0 0.0 " in page
    assert "Total 327.0 2 0 0.0" in page
    assert "<caption" in html(response)
    default = signed_in(tina).get("/oncall/fairness/")
    assert default.status_code == 200 and "All roles, Nov 23, 2026 to Dec 20, 2026" in text(default)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("start=2026-12-10&end=2026-12-01", "end"),
        ("start=2020-01-01&end=2026-12-01", "end"),
        ("start=nonsense", "start"),
        ("role=boss", "role"),
        ("start=1999-01-01&end=1999-02-01", "start"),
    ],
)
def test_fairness_bad_input_is_shown_on_the_form(
    world: World, tina: User, query: str, field: str
) -> None:
    response = signed_in(tina).get("/oncall/fairness/?" + query)
    assert response.status_code == 422
    assert f'id="id_{field}-error"' in html(response)


# --- calendar feeds ---------------------------------------------------------------------------


def test_feed_secret_is_shown_once_works_and_can_be_revoked(
    world: World, tina: User, erin: User
) -> None:
    client = signed_in(tina)
    response = client.post(
        "/oncall/feeds/", {"subject": f"rotation:{world.tier3.pk}", "name": "T3 wall"}
    )
    assert response.status_code == 201
    match = re.search(r'id="new-feed-url"[^>]*>[^<]*(/oncall/feeds/[^<]+\.ics)<', html(response))
    assert match, html(response)
    secret_path = match.group(1)
    token = FeedToken.objects.get()
    assert token.owner == tina and token.rotation == world.tier3
    assert secret_path.split("/")[-1][: len(token.hint)] == token.hint
    listing = html(client.get("/oncall/feeds/"))
    assert "T3 wall" in listing and secret_path not in listing  # never shown again
    assert Client().get(secret_path).status_code == 200
    assert signed_in(erin).post(f"/oncall/feeds/{token.pk}/revoke/").status_code == 404
    assert client.post(f"/oncall/feeds/{token.pk}/revoke/").status_code == 302
    assert Client().get(secret_path).status_code == 404


def test_feed_for_my_own_shifts_and_bad_choices(world: World, erin: User, nobody: User) -> None:
    client = signed_in(erin)
    assert client.post("/oncall/feeds/", {"subject": f"person:{erin.pk}"}).status_code == 201
    assert FeedToken.objects.get().person == erin
    bad = client.post("/oncall/feeds/", {"subject": "rotation:999"})
    assert bad.status_code == 422 and 'id="id_subject-error"' in html(bad)
    assert signed_in(nobody).get("/oncall/feeds/").status_code == 403


# --- every page: no inline script or style (the CSP forbids them) -----------------------------


def test_no_inline_script_or_style_on_any_on_call_page(
    handoff: Handoff, maggie: User, frank: User
) -> None:
    pages = [
        "/oncall/",
        week(),
        week(view="month"),
        "/oncall/rotations/",
        "/oncall/rotations/new/",
        f"/oncall/rotations/{handoff.rotation_id}/edit/",
        "/oncall/overrides/new/",
        "/oncall/swaps/",
        "/oncall/handoffs/",
        f"/oncall/handoffs/{handoff.pk}/",
        "/oncall/fairness/",
        "/oncall/feeds/",
    ]
    for client in (signed_in(maggie), signed_in(frank)):
        for url in pages:
            response = client.get(url)
            if response.status_code == 403:
                continue  # frank may not edit rotations
            assert response.status_code == 200, url
            page = html(response)
            assert "style=" not in page, url
            assert "<style" not in page, url
            for script in re.findall(r"<script[^>]*>", page):
                assert "src=" in script, (url, script)
            assert page.count("<h1") == 1, url


def test_handoffs_keep_their_local_time_across_dst_for_a_viewer_elsewhere(
    world: World, tina: User
) -> None:
    # New York's Thursday 09:00 handoff is 14:00 UTC in winter and 13:00 UTC after the
    # 2027-03-14 spring change; a viewer in UTC sees both, each inside whole UTC days.
    tina.time_zone = "UTC"
    tina.save(update_fields=["time_zone"])
    client = signed_in(tina)
    before = text(client.get(week(start="2027-03-08")))
    after = text(client.get(week(start="2027-03-15")))
    assert (
        "00:00-14:00 Frank T3 Scheduled turn, from the day before 14:00-24:00 Erin T3"
        in (before.split("Thursday, March 11")[1])
    )
    assert (
        "00:00-13:00 Erin T3 Scheduled turn, from the day before 13:00-24:00 Frank T3"
        in (after.split("Thursday, March 18")[1])
    )
