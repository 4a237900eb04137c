"""REST API for business calendars and SLA policies: read for every role, write for admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from backline.accounts.models import ApiToken, User, new_token_secret, token_digest
from backline.audit.models import AuditEvent
from backline.calendars.models import Calendar, Holiday
from backline.conftest import PERSONAS, ApiClient
from backline.tickets import services
from backline.tickets.models import SlaPolicy

pytestmark = pytest.mark.django_db

EVERYONE = sorted(PERSONAS)
ADMINS = {"ada"}

BERLIN: dict[str, Any] = {
    "name": "Berlin office",
    "time_zone": "Europe/Berlin",
    "weekly_hours": {str(day): [["09:00", "17:00"]] for day in range(5)},
    "us_federal_holidays": False,
    "holidays": [
        {"date": "2026-12-24", "name": "Heiligabend"},
        {"date": "2026-10-03", "name": "Tag der Deutschen Einheit"},
    ],
}


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class RolelessApiClient(ApiClient):
    """A token held by someone whose roles were all withdrawn (api_token_create refuses them now)."""

    def __init__(self, user: User) -> None:
        self.secret = new_token_secret()
        ApiToken.objects.create(
            user=user, name="issued before", digest=token_digest(self.secret), hint=self.secret[:8]
        )
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.secret}")
        self.user = user


@pytest.fixture
def call_as(
    api_as: Callable[[str], ApiClient], make_person: Callable[[str], User]
) -> Callable[[str], ApiClient]:
    def make(name: str) -> ApiClient:
        return api_as(name) if PERSONAS[name] else RolelessApiClient(make_person(name))

    return make


def assert_error(
    response: Any, status: int, field: str | None = None, says: str = ""
) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert body["message"] and isinstance(body["fields"], dict)
    if field is not None:
        assert field in body["fields"], body
    if says:
        assert says.lower() in (body["message"] + str(body["fields"])).lower(), body
    return body


def seeded(name: str) -> Calendar:
    return Calendar.objects.get(name=name)


# --- reading ----------------------------------------------------------------------------------


def test_everyone_with_a_role_reads_the_seeded_calendars(
    api_as: Callable[[str], ApiClient],
) -> None:
    response = api_as("tina").get("calendars")
    assert response.status_code == 200, response.content
    by_name = {c["name"]: c for c in response.json()}
    business = by_name["US business hours"]
    assert business["time_zone"] == "America/New_York" and business["is_24x7"] is False
    assert business["weekly_hours"] == {str(day): [["09:00", "17:00"]] for day in range(5)}
    assert business["us_federal_holidays"] is True
    assert business["used_by_policies"] == ["high", "medium", "low"]
    assert by_name["24x7"]["is_24x7"] is True
    assert by_name["24x7"]["used_by_policies"] == ["critical"]


def test_get_one_calendar_with_its_holidays(api_as: Callable[[str], ApiClient]) -> None:
    created = api_as("ada").post("calendars", BERLIN).json()
    body = api_as("sam").get(f"calendars/{created['id']}").json()
    assert body["holidays"] == [
        {"date": "2026-10-03", "name": "Tag der Deutschen Einheit"},
        {"date": "2026-12-24", "name": "Heiligabend"},
    ]


def test_unknown_calendar_is_404_and_a_bad_id_is_422(api_as: Callable[[str], ApiClient]) -> None:
    assert_error(api_as("sam").get("calendars/999999"), 404, says="999999")
    assert_error(api_as("sam").get(f"calendars/{10**20}"), 404)
    assert_error(api_as("sam").get("calendars/first"), 422, "calendar_id")
    assert_error(api_as("ada").put("calendars/999999", BERLIN), 404)
    assert_error(api_as("ada").delete("calendars/999999"), 404)


def test_people_without_a_role_read_nothing(call_as: Callable[[str], ApiClient]) -> None:
    client = call_as("nobody")
    assert_error(client.get("calendars"), 403)
    assert_error(client.get(f"calendars/{seeded('24x7').pk}"), 403)
    assert_error(client.get("sla-policies"), 403)


def test_signed_out_callers_get_401() -> None:
    assert_error(Client().get("/api/v1/calendars"), 401)
    assert_error(Client().get("/api/v1/sla-policies"), 401)


def test_sla_policies_follow_the_published_table(api_as: Callable[[str], ApiClient]) -> None:
    response = api_as("tina").get("sla-policies")
    assert response.status_code == 200, response.content
    rows = [
        (p["priority"], p["acknowledge_minutes"], p["resolve_minutes"], p["calendar"]["name"])
        for p in response.json()
    ]
    assert rows == [
        ("critical", 60, 1440, "24x7"),
        ("high", 240, 960, "US business hours"),
        ("medium", 480, 2400, "US business hours"),
        ("low", 480, 4800, "US business hours"),
    ]
    assert response.json()[0]["meaning"] == "Patient safety impact"
    assert response.json()[0]["priority_label"] == "Critical"


# --- writing calendars ------------------------------------------------------------------------


def test_admin_creates_a_calendar_and_it_is_audited(api_as: Callable[[str], ApiClient]) -> None:
    response = api_as("ada").post("calendars", BERLIN)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["time_zone"], body["us_federal_holidays"]) == (
        "Berlin office",
        "Europe/Berlin",
        False,
    )
    assert len(body["holidays"]) == 2 and body["used_by_policies"] == []
    calendar = Calendar.objects.get(pk=body["id"])
    assert calendar.holidays.count() == 2
    row = AuditEvent.objects.get(action="calendar.create")
    assert row.actor is not None and row.actor.username == "ada"
    assert row.detail == {"calendar": calendar.pk, "name": "Berlin office"}


def test_a_24x7_calendar_needs_no_hours(api_as: Callable[[str], ApiClient]) -> None:
    response = api_as("ada").post(
        "calendars",
        {"name": "Round the clock UTC", "time_zone": "UTC", "is_24x7": True, "weekly_hours": {}},
    )
    assert response.status_code == 201, response.content
    assert response.json()["is_24x7"] is True


def test_defaults_are_weekdays_nine_to_five_new_york(api_as: Callable[[str], ApiClient]) -> None:
    body = api_as("ada").post("calendars", {"name": "Plain"}).json()
    assert body["time_zone"] == "America/New_York"
    assert body["weekly_hours"] == {str(day): [["09:00", "17:00"]] for day in range(5)}
    assert body["us_federal_holidays"] is True and body["holidays"] == []


def test_put_replaces_the_calendar_and_its_holidays(api_as: Callable[[str], ApiClient]) -> None:
    ada = api_as("ada")
    created = ada.post("calendars", BERLIN).json()
    change = dict(
        BERLIN,
        name="Berlin office (winter)",
        weekly_hours={"0": [["08:00", "12:00"], ["13:00", "18:00"]], "5": [["10:00", "14:00"]]},
        holidays=[{"date": "2026-12-31", "name": "Silvester"}],
    )
    response = ada.put(f"calendars/{created['id']}", change)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Berlin office (winter)"
    assert body["weekly_hours"] == change["weekly_hours"]
    assert body["holidays"] == [{"date": "2026-12-31", "name": "Silvester"}]
    assert list(
        Holiday.objects.filter(calendar_id=created["id"]).values_list("name", flat=True)
    ) == ["Silvester"]
    assert AuditEvent.objects.filter(action="calendar.update").count() == 1


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "IANA"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "IANA"),
        ({"time_zone": ""}, "time_zone", "IANA"),
        ({"weekly_hours": {"0": [["17:00", "09:00"]]}}, "weekly_hours", ""),
        ({"weekly_hours": {"9": [["09:00", "17:00"]]}}, "weekly_hours", "9"),
        ({"weekly_hours": {"monday": [["09:00", "17:00"]]}}, "weekly_hours", "monday"),
        ({"weekly_hours": {"0": [["9am", "5pm"]]}}, "weekly_hours", "9am"),
        ({"weekly_hours": {"0": [["09:00"]]}}, "weekly_hours", ""),
        ({"weekly_hours": {}}, "weekly_hours", ""),
        ({"weekly_hours": "weekdays"}, "weekly_hours", "dictionary"),
        ({"holidays": [{"date": "2026-02-30", "name": "No such day"}]}, "holidays.0.date", "date"),
        ({"holidays": [{"date": "2026-12-24"}]}, "holidays.0.name", "required"),
        (
            {
                "holidays": [
                    {"date": "2026-12-24", "name": "A"},
                    {"date": "2026-12-24", "name": "B"},
                ]
            },
            "holidays",
            "twice",
        ),
        ({"name": ""}, "name", ""),
        ({"name": "24x7"}, "name", "already exists"),
        ({"is_24x7": "sometimes"}, "is_24x7", "bool"),
        ({"name": "Berlin\x00"}, "name", "NUL"),
        (
            {"holidays": [{"date": "2026-12-24", "name": "Heilig\x00abend"}]},
            "holidays.0.name",
            "NUL",
        ),
        ({"weekly_hours": {"0\x00": [["09:00", "17:00"]]}}, "weekly_hours", "NUL"),
        ({"colour": "blue"}, "colour", "extra"),
    ],
)
def test_bad_calendars_are_refused_naming_the_field(
    api_as: Callable[[str], ApiClient], change: dict[str, Any], field: str, says: str
) -> None:
    count = Calendar.objects.count()
    assert_error(api_as("ada").post("calendars", BERLIN | change), 422, field, says)
    assert Calendar.objects.count() == count
    assert not AuditEvent.objects.filter(action="calendar.create").exists()


def test_a_failed_update_changes_nothing(api_as: Callable[[str], ApiClient]) -> None:
    ada = api_as("ada")
    created = ada.post("calendars", BERLIN).json()
    bad = dict(BERLIN, name="Renamed", weekly_hours={"0": [["17:00", "09:00"]]}, holidays=[])
    assert_error(ada.put(f"calendars/{created['id']}", bad), 422, "weekly_hours")
    calendar = Calendar.objects.get(pk=created["id"])
    assert calendar.name == "Berlin office" and calendar.holidays.count() == 2


def test_malformed_json_is_a_400(api_as: Callable[[str], ApiClient]) -> None:
    response = api_as("ada").client.post("/api/v1/calendars", "{", content_type="application/json")
    assert_error(response, 400, says="parse")


def test_delete_an_unused_calendar(api_as: Callable[[str], ApiClient]) -> None:
    ada = api_as("ada")
    created = ada.post("calendars", BERLIN).json()
    response = ada.delete(f"calendars/{created['id']}")
    assert response.status_code == 204, response.content
    assert not Calendar.objects.filter(pk=created["id"]).exists()
    assert AuditEvent.objects.filter(action="calendar.delete").count() == 1


def test_a_calendar_used_by_a_policy_cannot_be_deleted(api_as: Callable[[str], ApiClient]) -> None:
    business = seeded("US business hours")
    response = api_as("ada").delete(f"calendars/{business.pk}")
    assert_error(response, 409, says="High, Medium, Low")
    assert Calendar.objects.filter(pk=business.pk).exists()


def test_a_calendar_running_ticket_clocks_cannot_be_deleted(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ada = api_as("ada")
    created = ada.post("calendars", BERLIN).json()
    ada.put(
        "sla-policies/low",
        {"acknowledge_minutes": 60, "resolve_minutes": 600, "calendar_id": created["id"]},
    )
    ticket = services.ticket_create(actor=sam, fields=dict(tier3_context, priority="low"), tier=2)
    ticket = services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
    assert ticket.sla_calendar_id == created["id"]
    ada.put(
        "sla-policies/low",
        {
            "acknowledge_minutes": 480,
            "resolve_minutes": 4800,
            "calendar_id": seeded("US business hours").pk,
        },
    )
    response = ada.delete(f"calendars/{created['id']}")
    assert_error(response, 409, says="existing tickets")
    assert Calendar.objects.filter(pk=created["id"]).exists()
    assert not AuditEvent.objects.filter(action="calendar.delete").exists()


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_admins_write_calendars(call_as: Callable[[str], ApiClient], persona: str) -> None:
    target = Calendar.objects.create(name="Target", time_zone="UTC")
    client = call_as(persona)
    attempts = [
        client.post("calendars", BERLIN),
        client.put(f"calendars/{target.pk}", dict(BERLIN, name="Renamed")),
        client.delete(f"calendars/{target.pk}"),
    ]
    if persona in ADMINS:
        assert [r.status_code for r in attempts] == [201, 200, 204]
    else:
        for response in attempts:
            assert_error(response, 403, says="sla.manage")
        assert list(Calendar.objects.filter(pk=target.pk).values_list("name", flat=True)) == [
            "Target"
        ]
        assert not Calendar.objects.filter(name="Berlin office").exists()


# --- writing SLA policies ---------------------------------------------------------------------


def test_admin_sets_a_policy_and_running_clocks_keep_their_targets(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = services.ticket_create(actor=sam, fields=dict(tier3_context, priority="high"), tier=2)
    ticket = services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
    due_before = ticket.ack_due_at
    always = seeded("24x7")
    response = api_as("ada").put(
        "sla-policies/high",
        {"acknowledge_minutes": 120, "resolve_minutes": 720, "calendar_id": always.pk},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "priority": "high",
        "priority_label": "High",
        "meaning": "Multiple users or providers",
        "acknowledge_minutes": 120,
        "resolve_minutes": 720,
        "calendar": {"id": always.pk, "name": "24x7"},
    }
    policy = SlaPolicy.objects.get(priority="high")
    assert (policy.acknowledge_minutes, policy.calendar_id) == (120, always.pk)
    ticket.refresh_from_db()
    assert (ticket.ack_target_minutes, ticket.ack_due_at) == (240, due_before)
    row = AuditEvent.objects.get(action="sla_policy.update")
    assert row.detail["old"][:2] == [240, 960] and row.detail["new"] == [120, 720, always.pk]


def test_a_missing_policy_is_created(api_as: Callable[[str], ApiClient]) -> None:
    SlaPolicy.objects.filter(priority="low").delete()
    body = {"acknowledge_minutes": 30, "resolve_minutes": 60, "calendar_id": seeded("24x7").pk}
    assert api_as("ada").put("sla-policies/low", body).status_code == 200
    assert SlaPolicy.objects.get(priority="low").resolve_minutes == 60


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("sla-policies/urgent", {"acknowledge_minutes": 1, "resolve_minutes": 2}, "priority"),
        (
            "sla-policies/high",
            {"acknowledge_minutes": 0, "resolve_minutes": 60},
            "acknowledge_minutes",
        ),
        (
            "sla-policies/high",
            {"acknowledge_minutes": -5, "resolve_minutes": 60},
            "acknowledge_minutes",
        ),
        (
            "sla-policies/high",
            {"acknowledge_minutes": "an hour", "resolve_minutes": 60},
            "acknowledge_minutes",
        ),
        (
            "sla-policies/high",
            {"acknowledge_minutes": 60, "resolve_minutes": 30},
            "resolve_minutes",
        ),
        (
            "sla-policies/high",
            {"acknowledge_minutes": 60, "resolve_minutes": 2**40},
            "resolve_minutes",
        ),
        ("sla-policies/high", {"acknowledge_minutes": 60, "resolve_minutes": 90}, "calendar_id"),
        (
            "sla-policies/high",
            {"acknowledge_minutes": 60, "resolve_minutes": 90, "calendar_id": 999999},
            "calendar_id",
        ),
        (
            "sla-policies/high",
            {"acknowledge_minutes": 60, "resolve_minutes": 90, "calendar_id": 10**20},
            "calendar_id",
        ),
        (
            "sla-policies/high",
            {"acknowledge_minutes": 60, "resolve_minutes": 90, "days": 3},
            "days",
        ),
    ],
)
def test_bad_policies_are_refused_naming_the_field(
    api_as: Callable[[str], ApiClient], path: str, payload: dict[str, Any], field: str
) -> None:
    if field != "calendar_id":
        payload = {"calendar_id": seeded("24x7").pk} | payload
    assert_error(api_as("ada").put(path, payload), 422, field)
    assert SlaPolicy.objects.get(priority="high").acknowledge_minutes == 240
    assert not AuditEvent.objects.filter(action="sla_policy.update").exists()


@pytest.mark.parametrize("persona", EVERYONE)
def test_only_admins_set_policies(call_as: Callable[[str], ApiClient], persona: str) -> None:
    payload = {"acknowledge_minutes": 30, "resolve_minutes": 60, "calendar_id": seeded("24x7").pk}
    response = call_as(persona).put("sla-policies/medium", payload)
    if persona in ADMINS:
        assert response.status_code == 200, response.content
    else:
        assert_error(response, 403)
        assert SlaPolicy.objects.get(priority="medium").acknowledge_minutes == 480
