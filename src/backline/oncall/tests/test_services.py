"""Rotations, overrides and swaps through the services: who may, who may not, and what changes."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from backline.accounts.models import User
from backline.audit.models import AuditEvent
from backline.errors import Conflict, InvalidInput
from backline.oncall import demo, selectors, services
from backline.oncall.models import OncallRole, Override, Rotation, SwapStatus
from backline.oncall.tests.conftest import Clock, World, make_rotation, ny

pytestmark = pytest.mark.django_db


def who(world: World, at: object) -> str | None:
    answer = selectors.on_call_for(role=OncallRole.TIER3, at=at)  # type: ignore[arg-type]
    return answer.person.username if answer.person else None


# --- rotations --------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["maggie", "ada"])
def test_managers_and_admins_create_rotations(
    clock: Clock, make_person: object, persona: str, erin: User
) -> None:
    actor = make_person(persona)  # type: ignore[operator]
    rotation = make_rotation(actor, "R", OncallRole.TIER3, [erin])
    assert [m.user for m in rotation.members.all()] == [erin]
    assert AuditEvent.objects.filter(action="oncall.rotation.create").exists()


@pytest.mark.parametrize("persona", ["tina", "sam", "erin", "mona", "nobody"])
def test_nobody_else_creates_rotations(
    clock: Clock, make_person: object, persona: str, erin: User
) -> None:
    with pytest.raises(PermissionDenied, match=r"rotation\.manage"):
        make_rotation(make_person(persona), "R", OncallRole.TIER3, [erin])  # type: ignore[operator]
    assert not Rotation.objects.exists()


def test_rotation_input_is_checked_field_by_field(
    clock: Clock, maggie: User, erin: User, mona: User
) -> None:
    with pytest.raises(InvalidInput) as bad_zone:
        make_rotation(maggie, "R", OncallRole.TIER3, [erin], time_zone="Mars/Olympus")
    assert "time_zone" in bad_zone.value.fields
    with pytest.raises(InvalidInput) as wrong_role:
        make_rotation(maggie, "R", OncallRole.TIER3, [erin, mona])
    assert "Mona does not hold the Tier 3 engineer role" in wrong_role.value.fields["members"][0]
    with pytest.raises(InvalidInput) as twice:
        make_rotation(maggie, "R", OncallRole.TIER3, [erin, erin])
    assert "twice" in twice.value.fields["members"][0]
    with pytest.raises(InvalidInput) as count:
        make_rotation(maggie, "R", OncallRole.TIER3, [erin], shift_unit="hours", shift_count=0)
    assert "shift_count" in count.value.fields
    assert not Rotation.objects.exists()  # nothing half-saved
    make_rotation(maggie, "R", OncallRole.TIER3, [erin])
    with pytest.raises(InvalidInput, match="already exists"):
        make_rotation(maggie, "R", OncallRole.TIER3, [erin])


def test_daily_and_hourly_rotations(clock: Clock, maggie: User, erin: User, frank: User) -> None:
    daily = make_rotation(
        maggie, "D", OncallRole.TIER3, [erin, frank], shift_unit="days", shift_count=1
    )
    shifts = selectors.rotation_shifts(
        rotation=daily, start=ny(2026, 12, 3, 9), end=ny(2026, 12, 6, 9)
    )
    assert [s.person.username for s in shifts] == ["erin", "frank", "erin"]
    hourly = make_rotation(
        maggie, "H", OncallRole.TIER3, [erin, frank], shift_unit="hours", shift_count=12
    )
    shifts = selectors.rotation_shifts(
        rotation=hourly, start=ny(2026, 12, 3, 9), end=ny(2026, 12, 4, 9)
    )
    assert [(s.person.username, s.end) for s in shifts] == [
        ("erin", ny(2026, 12, 3, 21)),
        ("frank", ny(2026, 12, 4, 9)),
    ]


def test_updating_members_reorders_turns_and_deactivating_stops_answers(
    world: World, maggie: User, erin: User, frank: User
) -> None:
    assert who(world, ny(2026, 12, 4, 10)) == "erin"
    services.rotation_update(actor=maggie, rotation=world.tier3, members=[frank, erin])
    assert who(world, ny(2026, 12, 4, 10)) == "frank"
    services.rotation_update(
        actor=maggie,
        rotation=world.tier3,
        fields={"handoff_weekday": 0, "start_date": date(2026, 12, 7)},
    )
    assert who(world, ny(2026, 12, 8, 10)) == "frank" and who(world, ny(2026, 12, 15, 10)) == "erin"
    services.rotation_deactivate(actor=maggie, rotation=world.tier3)
    assert who(world, ny(2026, 12, 8, 10)) is None


# --- overrides --------------------------------------------------------------------------------


def test_an_engineer_hands_over_their_own_shift(world: World, erin: User, frank: User) -> None:
    override = services.override_create(
        actor=erin,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 4, 8, 30),
        end=ny(2026, 12, 4, 8, 45),
        reason="dentist",
    )
    shifts = selectors.rotation_shifts(
        rotation=world.tier3, start=ny(2026, 12, 4, 8), end=ny(2026, 12, 4, 10)
    )
    assert [(s.person.username, s.start, s.end, s.is_override) for s in shifts] == [
        ("erin", ny(2026, 12, 4, 8), ny(2026, 12, 4, 8, 30), False),
        ("frank", ny(2026, 12, 4, 8, 30), ny(2026, 12, 4, 8, 45), True),
        ("erin", ny(2026, 12, 4, 8, 45), ny(2026, 12, 4, 10), False),
    ]
    assert shifts[1].replaced == erin
    services.override_delete(actor=erin, override=override)
    assert who(world, ny(2026, 12, 4, 8, 40)) == "erin"  # removing it restores the rotation


def test_an_engineer_may_not_override_someone_elses_shift(
    world: World, erin: User, frank: User
) -> None:
    with pytest.raises(PermissionDenied, match="own shifts"):
        services.override_create(
            actor=erin,
            rotation=world.tier3,
            person=erin,
            replaces=frank,
            start=ny(2026, 12, 11, 9),
            end=ny(2026, 12, 11, 17),
        )
    with pytest.raises(PermissionDenied, match="own shifts"):
        services.override_create(
            actor=erin,
            rotation=world.tier3,
            person=erin,
            start=ny(2026, 12, 11, 9),
            end=ny(2026, 12, 11, 17),
        )
    # Her own name as `replaces`, but in frank's week: she is not scheduled there.
    with pytest.raises(InvalidInput) as not_scheduled:
        services.override_create(
            actor=erin,
            rotation=world.tier3,
            person=frank,
            replaces=erin,
            start=ny(2026, 12, 11, 9),
            end=ny(2026, 12, 11, 17),
        )
    assert "replaces" in not_scheduled.value.fields
    assert not Override.objects.exists()


@pytest.mark.parametrize("persona", ["tina", "sam", "nobody"])
def test_people_off_the_on_call_roles_may_not_override(
    world: World, make_person: object, persona: str, erin: User, frank: User
) -> None:
    actor = make_person(persona)  # type: ignore[operator]
    with pytest.raises(PermissionDenied):
        services.override_create(
            actor=actor,
            rotation=world.tier3,
            person=frank,
            replaces=erin,
            start=ny(2026, 12, 4, 9),
            end=ny(2026, 12, 4, 17),
        )


def test_a_manager_overrides_anyone_and_the_later_override_wins(
    world: World, maggie: User, erin: User, frank: User, tina: User
) -> None:
    services.override_create(
        actor=maggie,
        rotation=world.tier3,
        person=erin,
        start=ny(2026, 12, 11, 9),
        end=ny(2026, 12, 11, 17),
    )
    assert who(world, ny(2026, 12, 11, 12)) == "erin"
    services.override_create(
        actor=maggie,
        rotation=world.tier3,
        person=frank,
        start=ny(2026, 12, 11, 12),
        end=ny(2026, 12, 11, 13),
    )
    assert who(world, ny(2026, 12, 11, 12, 30)) == "frank"
    with pytest.raises(InvalidInput, match="Tina"):
        services.override_create(
            actor=maggie,
            rotation=world.tier3,
            person=tina,
            start=ny(2026, 12, 11, 9),
            end=ny(2026, 12, 11, 17),
        )


def test_override_windows_are_checked(world: World, maggie: User, erin: User) -> None:
    with pytest.raises(InvalidInput, match="after the start"):
        services.override_create(
            actor=maggie,
            rotation=world.tier3,
            person=erin,
            start=ny(2026, 12, 11, 9),
            end=ny(2026, 12, 11, 9),
        )
    with pytest.raises(InvalidInput, match="over already"):
        services.override_create(
            actor=maggie,
            rotation=world.tier3,
            person=erin,
            start=ny(2026, 11, 1, 9),
            end=ny(2026, 11, 2, 9),
        )


def test_only_the_creator_the_replaced_or_a_manager_removes_an_override(
    world: World, erin: User, frank: User, mona: User, maggie: User
) -> None:
    override = services.override_create(
        actor=erin,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 4, 9),
        end=ny(2026, 12, 4, 17),
    )
    with pytest.raises(Conflict):
        services.override_delete(actor=mona, override=override)
    services.override_delete(actor=maggie, override=override)
    assert not Override.objects.exists()


# --- swaps ------------------------------------------------------------------------------------


def test_a_swap_is_requested_then_accepted_once(world: World, erin: User, frank: User) -> None:
    swap = services.swap_request(
        actor=erin,
        rotation=world.tier3,
        counterpart=frank,
        start=ny(2026, 12, 17, 9),
        end=ny(2026, 12, 24, 9),
        return_start=ny(2026, 12, 24, 9),
        return_end=ny(2026, 12, 31, 9),
        message="Holidays",
    )
    assert who(world, ny(2026, 12, 18, 10)) == "erin"  # nothing changes until accepted
    with pytest.raises(Conflict, match="Only the person asked"):
        services.swap_accept(actor=erin, swap=swap)
    overrides = services.swap_accept(actor=frank, swap=swap)
    assert len(overrides) == 2
    assert who(world, ny(2026, 12, 18, 10)) == "frank"
    assert who(world, ny(2026, 12, 28, 10)) == "erin"
    with pytest.raises(Conflict, match="already accepted"):
        services.swap_accept(actor=frank, swap=swap)
    assert Override.objects.count() == 2


def test_a_swap_can_be_declined_or_canceled(world: World, erin: User, frank: User) -> None:
    def ask() -> object:
        return services.swap_request(
            actor=erin,
            rotation=world.tier3,
            counterpart=frank,
            start=ny(2026, 12, 17, 9),
            end=ny(2026, 12, 18, 9),
        )

    declined = services.swap_decline(actor=frank, swap=ask())  # type: ignore[arg-type]
    assert declined.status == SwapStatus.DECLINED
    with pytest.raises(Conflict):
        services.swap_cancel(actor=frank, swap=ask())  # type: ignore[arg-type]
    canceled = services.swap_cancel(actor=erin, swap=ask())  # type: ignore[arg-type]
    assert canceled.status == SwapStatus.CANCELED
    assert not Override.objects.exists()


def test_a_swap_needs_the_requester_scheduled_in_the_window(
    world: World, erin: User, frank: User, mona: User
) -> None:
    with pytest.raises(InvalidInput):
        services.swap_request(
            actor=erin,
            rotation=world.tier3,
            counterpart=frank,
            start=ny(2026, 12, 11, 9),
            end=ny(2026, 12, 12, 9),
        )
    with pytest.raises(Conflict, match="not on T3"):
        services.swap_request(
            actor=mona,
            rotation=world.tier3,
            counterpart=frank,
            start=ny(2026, 12, 11, 9),
            end=ny(2026, 12, 12, 9),
        )


# --- gaps, fairness, demo ---------------------------------------------------------------------


def test_gaps_and_fairness(world: World, maggie: User, erin: User, frank: User) -> None:
    gaps = selectors.role_gaps(role=OncallRole.TIER3, start=ny(2026, 12, 1), end=ny(2026, 12, 8))
    # Coverage hours before the first handoff (Dec 1-2 and Dec 3 before 09:00, which is closed).
    assert gaps == [
        (ny(2026, 12, 1, 9), ny(2026, 12, 1, 17)),
        (ny(2026, 12, 2, 9), ny(2026, 12, 2, 17)),
    ]
    services.override_create(
        actor=maggie,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 4, 9),
        end=ny(2026, 12, 5, 9),
    )
    rows = {
        r.person.username: r
        for r in selectors.fairness_report(
            start=ny(2026, 12, 3, 9), end=ny(2026, 12, 17, 9), role=OncallRole.TIER3
        )
    }
    assert rows["erin"].hours == 168 - 24 and rows["erin"].shifts == 1
    assert rows["frank"].hours == 168 + 24 and rows["frank"].overrides == 1
    assert rows["frank"].override_hours == 24
    assert rows["frank"].in_coverage_hours == 5 * 8 + 8  # his week plus Friday Dec 4


def test_demo_rotations(clock: Clock) -> None:
    from backline.demo import demo_people

    people = demo_people()
    assert demo.demo_rotations(people) == 3
    sizes = {r.role: r.members.count() for r in Rotation.objects.all()}
    assert sizes == {"tier3": 4, "monitoring": 5, "investigator": 4}
    frank_roles = set(
        Rotation.objects.filter(members__user__username="frank").values_list("role", flat=True)
    )
    assert frank_roles == {"tier3", "monitoring"}
    assert Override.objects.count() >= 2
    assert all(a.person is not None for a in selectors.on_call_now())
    assert demo.demo_rotations(people) == 0


def test_role_schedule_for_a_week_view(world: World, maggie: User, erin: User, frank: User) -> None:
    services.override_create(
        actor=maggie,
        rotation=world.tier3,
        person=frank,
        replaces=erin,
        start=ny(2026, 12, 4, 9),
        end=ny(2026, 12, 4, 17),
    )
    week = selectors.role_schedule(
        role=OncallRole.TIER3, start=ny(2026, 11, 30), end=ny(2026, 12, 7)
    )
    assert [(s.person.username, s.is_override) for s in week.shifts] == [
        ("erin", False),
        ("frank", True),
        ("erin", False),
    ]
    assert [o.person for o in week.overrides] == [frank]
    assert week.gaps[0] == (ny(2026, 11, 30, 9), ny(2026, 11, 30, 17))  # before the first turn
    with pytest.raises(InvalidInput):
        selectors.role_schedule(role=OncallRole.TIER3, start=ny(2026, 12, 7), end=ny(2026, 11, 30))
