"""The on-call API: happy paths and the 4xx answers, through real tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from backline.accounts.models import Team, User
from backline.conftest import ApiClient
from backline.oncall import handoff as handoffs
from backline.oncall.models import Handoff
from backline.oncall.tests.conftest import Clock, World, ny
from backline.tickets.models import Ticket

pytestmark = pytest.mark.django_db

Api = Callable[[str], ApiClient]


def test_rotation_crud(api_as: Api, clock: Clock, erin: User, frank: User) -> None:
    Team.objects.create(slug="t3", name="Tier 3", role="tier3")
    body = {
        "name": "Tier 3 support",
        "role": "tier3",
        "team": "t3",
        "start_date": "2026-12-03",
        "members": ["erin", "frank"],
    }
    assert api_as("erin").post("oncall/rotations", body).status_code == 403
    created = api_as("maggie").post("oncall/rotations", body)
    assert created.status_code == 201, created.json()
    rotation = created.json()
    assert rotation["handoff_weekday"] == 3 and rotation["handoff_time"] == "09:00:00"
    assert [m["username"] for m in rotation["members"]] == ["erin", "frank"]
    rid = rotation["id"]
    assert api_as("tina").get(f"oncall/rotations/{rid}").json()["name"] == "Tier 3 support"
    patched = api_as("maggie").patch(f"oncall/rotations/{rid}", {"members": ["frank", "erin"]})
    assert [m["username"] for m in patched.json()["members"]] == ["frank", "erin"]
    assert api_as("maggie").delete(f"oncall/rotations/{rid}").status_code == 204
    assert api_as("maggie").get("oncall/rotations").json() == []
    assert len(api_as("maggie").get("oncall/rotations", include_inactive="true").json()) == 1
    assert api_as("maggie").get("oncall/rotations/9999").status_code == 404


def test_rotation_errors_name_the_field(api_as: Api, clock: Clock, erin: User) -> None:
    Team.objects.create(slug="t3", name="Tier 3", role="tier3")
    base = {"name": "R", "role": "tier3", "team": "t3", "start_date": "2026-12-03"}
    maggie = api_as("maggie")
    for change, field in (
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"members": ["ghost"]}, "members"),
        ({"members": ["mona"]}, "members"),
        ({"team": "nope"}, "team"),
        ({"handoff_weekday": 9}, "handoff_weekday"),
        ({"colour": "red"}, "colour"),
    ):
        if change.get("members") == ["mona"]:
            api_as("mona")  # make the persona exist
        response = maggie.post("oncall/rotations", base | change)
        assert response.status_code == 422, (change, response.json())
        assert field in response.json()["fields"], (change, response.json())


def test_now_at_shifts_gaps_fairness(api_as: Api, world: World, clock: Clock) -> None:
    tina = api_as("tina")
    clock.set(ny(2026, 12, 8, 10))
    now = tina.get("oncall/now").json()
    assert [(a["role"], a["person"]["username"], a["in_coverage"]) for a in now] == [
        ("tier3", "erin", True),
        ("monitoring", "mona", True),
        ("investigator", "ivan", True),
    ]
    at = tina.get("oncall/at", role="tier3", at=ny(2026, 12, 12, 10).isoformat()).json()
    assert at["person"]["username"] == "frank" and at["in_coverage"] is False
    assert at["next_coverage_start"] == "2026-12-14T14:00:00Z"
    assert tina.get("oncall/at", role="tier3", at="2026-12-12T10:00:00").status_code == 422
    assert tina.get("oncall/at", role="boss").status_code == 422

    shifts = tina.get(
        f"oncall/rotations/{world.tier3.pk}/shifts",
        start=ny(2026, 12, 3, 9).isoformat(),
        end=ny(2026, 12, 17, 9).isoformat(),
    ).json()
    assert [(s["person"]["username"], s["turn"]) for s in shifts] == [("erin", 0), ("frank", 1)]
    backwards = tina.get(
        f"oncall/rotations/{world.tier3.pk}/shifts",
        start=ny(2026, 12, 17).isoformat(),
        end=ny(2026, 12, 3).isoformat(),
    )
    assert backwards.status_code == 422 and "end" in backwards.json()["fields"]

    gaps = {g["role"]: g["gaps"] for g in tina.get("oncall/gaps", days=30).json()}
    assert gaps == {"tier3": [], "monitoring": [], "investigator": []}
    assert tina.get("oncall/gaps", days=0).status_code == 422

    fairness = tina.get(
        "oncall/fairness",
        start=ny(2026, 12, 3, 9).isoformat(),
        end=ny(2026, 12, 17, 9).isoformat(),
        role="tier3",
    ).json()
    assert {(r["person"]["username"], r["hours"], r["shifts"]) for r in fairness} == {
        ("erin", 168.0, 1),
        ("frank", 168.0, 1),
    }


def test_signed_out_and_roleless_people_get_401_and_403(
    api_as: Api, world: World, client: object
) -> None:
    assert client.get("/api/v1/oncall/now").status_code == 401  # type: ignore[attr-defined]
    assert api_as("nobody").get("oncall/now").status_code == 403


def test_overrides_through_the_api(api_as: Api, world: World, clock: Clock) -> None:
    erin = api_as("erin")
    api_as("frank")
    body = {
        "rotation": world.tier3.pk,
        "person": "frank",
        "replaces": "erin",
        "start": ny(2026, 12, 4, 9).isoformat(),
        "end": ny(2026, 12, 4, 17).isoformat(),
        "reason": "sick day",
    }
    created = erin.post("oncall/overrides", body)
    assert created.status_code == 201, created.json()
    oid = created.json()["id"]
    assert erin.get(f"oncall/overrides/{oid}").json()["reason"] == "sick day"
    listed = erin.get(
        "oncall/overrides", start=ny(2026, 12, 1).isoformat(), end=ny(2026, 12, 31).isoformat()
    ).json()
    assert [o["id"] for o in listed] == [oid]
    at = erin.get("oncall/at", role="tier3", at=ny(2026, 12, 4, 10).isoformat()).json()
    assert at["person"]["username"] == "frank" and at["is_override"] is True

    someone_elses = body | {
        "replaces": "frank",
        "person": "erin",
        "start": ny(2026, 12, 11, 9).isoformat(),
        "end": ny(2026, 12, 11, 17).isoformat(),
    }
    assert erin.post("oncall/overrides", someone_elses).status_code == 403
    assert api_as("maggie").post("oncall/overrides", someone_elses).status_code == 201
    assert erin.post("oncall/overrides", body | {"person": "ghost"}).status_code == 422
    assert erin.post("oncall/overrides", body | {"start": "2026-12-04T09:00:00"}).status_code == 422
    assert api_as("mona").delete(f"oncall/overrides/{oid}").status_code == 409
    assert erin.delete(f"oncall/overrides/{oid}").status_code == 204
    assert erin.get(f"oncall/overrides/{oid}").status_code == 404


def test_swaps_through_the_api(api_as: Api, world: World, clock: Clock) -> None:
    erin, frank = api_as("erin"), api_as("frank")
    asked = erin.post(
        "oncall/swaps",
        {
            "rotation": world.tier3.pk,
            "counterpart": "frank",
            "start": ny(2026, 12, 17, 9).isoformat(),
            "end": ny(2026, 12, 18, 9).isoformat(),
        },
    )
    assert asked.status_code == 201, asked.json()
    sid = asked.json()["id"]
    assert [s["id"] for s in frank.get("oncall/swaps").json()] == [sid]
    assert api_as("mona").post(f"oncall/swaps/{sid}/accept").status_code == 404
    assert erin.post(f"oncall/swaps/{sid}/accept").status_code == 409
    accepted = frank.post(f"oncall/swaps/{sid}/accept")
    assert accepted.json()["status"] == "accepted"
    assert frank.post(f"oncall/swaps/{sid}/decline").status_code == 409


def test_handoffs_through_the_api(
    api_as: Api, world: World, clock: Clock, escalate: Callable[..., Ticket], frank: User
) -> None:
    clock.set(ny(2026, 12, 8, 10))
    ticket = escalate()
    clock.set(ny(2026, 12, 10, 9, 1))
    [handoff] = handoffs.handoff_create_due()
    erin, frank_api = api_as("erin"), api_as("frank")
    assert api_as("tina").get("oncall/handoffs").status_code == 403
    listed = frank_api.get("oncall/handoffs").json()
    assert [h["id"] for h in listed] == [handoff.pk]
    assert listed[0]["report"]["transfers"] == [ticket.number]
    assert frank_api.post(f"oncall/handoffs/{handoff.pk}/notes", {"notes": "x"}).status_code == 409
    noted = erin.post(f"oncall/handoffs/{handoff.pk}/notes", {"notes": "Call VistA on Monday."})
    assert noted.json()["notes"] == "Call VistA on Monday."
    markdown = erin.get(f"oncall/handoffs/{handoff.pk}/markdown")
    assert markdown["Content-Type"].startswith("text/markdown")
    assert "Call VistA on Monday." in markdown.content.decode()
    assert erin.post(f"oncall/handoffs/{handoff.pk}/acknowledge").status_code == 409
    done = frank_api.post(f"oncall/handoffs/{handoff.pk}/acknowledge").json()
    assert done["status"] == "acknowledged" and done["transferred_tickets"] == [ticket.number]
    assert Ticket.objects.get(pk=ticket.pk).assignee == frank
    assert frank_api.post(f"oncall/handoffs/{handoff.pk}/acknowledge").status_code == 409
    assert frank_api.get("oncall/handoffs/9999").status_code == 404
    assert Handoff.objects.get(pk=handoff.pk).acknowledged_at == clock.at


def test_feed_tokens_through_the_api(api_as: Api, world: World, clock: Clock) -> None:
    tina = api_as("tina")
    created = tina.post("oncall/feeds", {"person": "erin"})
    assert created.status_code == 201
    assert "/oncall/feeds/blf_" in created.json()["url"]
    fid = created.json()["id"]
    assert [f["id"] for f in tina.get("oncall/feeds").json()] == [fid]
    assert tina.post("oncall/feeds", {}).status_code == 422
    assert (
        tina.post("oncall/feeds", {"rotation": world.tier3.pk, "person": "erin"}).status_code == 422
    )
    assert api_as("sam").delete(f"oncall/feeds/{fid}").status_code == 404
    assert tina.delete(f"oncall/feeds/{fid}").status_code == 204
    assert tina.get("oncall/feeds").json()[0]["revoked_at"] is not None
