"""REST API for tickets: every endpoint, each bad input, each role allowed and refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backline.accounts.models import ApiToken, User, new_token_secret, token_digest
from backline.audit.masking import mask_identifier
from backline.audit.models import AuditEvent
from backline.calendars.models import Calendar
from backline.conftest import PERSONAS, ApiClient
from backline.tickets import services
from backline.tickets.choices import TRANSITIONS, Status
from backline.tickets.models import SlaPolicy, Ticket

pytestmark = pytest.mark.django_db

ALL_ROLES = {"tina", "sam", "erin", "frank", "mona", "ivan", "maggie", "ada"}
ENGINEERS = {"erin", "frank", "mona", "ivan"}
LEADS = {"maggie", "ada"}
EVERYONE = sorted(PERSONAS)
ICN = "1012345678V123456"


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    # Personas are made per test; argon2 on each would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def policies(db: Any) -> None:
    """Known targets, whatever the data migration seeded: Critical on 24x7, the rest on weekdays."""
    always, _ = Calendar.objects.get_or_create(
        name="Test 24x7", defaults={"is_24x7": True, "time_zone": "UTC"}
    )
    weekdays, _ = Calendar.objects.get_or_create(
        name="Test business hours", defaults={"time_zone": "America/New_York"}
    )
    targets = {"critical": (60, 1440, always), "high": (240, 960, weekdays)}
    targets |= {"medium": (480, 2400, weekdays), "low": (480, 4800, weekdays)}
    for priority, (ack, resolve, calendar) in targets.items():
        SlaPolicy.objects.update_or_create(
            priority=priority,
            defaults={"acknowledge_minutes": ack, "resolve_minutes": resolve, "calendar": calendar},
        )


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


# --- tickets made by the real services -------------------------------------------------------


def tier1_ticket(tina: User, **fields: Any) -> Ticket:
    base = {"title": "Cannot see prescriptions", "description": "Patient called the help desk."}
    return services.ticket_create(actor=tina, fields=base | fields)


def tier2_ticket(sam: User, context: dict[str, Any]) -> Ticket:
    return services.ticket_create(actor=sam, fields=context, tier=2)


def tier3_ticket(sam: User, context: dict[str, Any]) -> Ticket:
    return services.ticket_escalate(ticket=tier2_ticket(sam, context), actor=sam, to_tier=3)


def acknowledged(ticket: Ticket, erin: User) -> Ticket:
    return services.ticket_acknowledge(ticket=ticket, actor=erin)


def fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def assert_error(
    response: Any, status: int, field: str | None = None, says: str = ""
) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["fields"], dict)
    if field is not None:
        assert field in body["fields"], body
    if says:
        assert says.lower() in (body["message"] + str(body["fields"])).lower(), body
    return body


# --- authentication and the OpenAPI document ---------------------------------------------------


def test_signed_out_callers_get_401_as_json() -> None:
    response = Client().get("/api/v1/tickets")
    body = assert_error(response, 401, says="Bearer")
    assert body["fields"] == {}


def test_unknown_token_gets_401() -> None:
    response = Client(HTTP_AUTHORIZATION="Bearer bl_not-a-real-token").get("/api/v1/tickets")
    assert_error(response, 401)


def test_revoked_token_gets_401(api_as: Callable[[str], ApiClient]) -> None:
    erin = api_as("erin")
    assert erin.get("tickets").status_code == 200
    token = ApiToken.objects.get(user=erin.user)
    assert erin.client.delete(f"/api/v1/me/tokens/{token.pk}").status_code == 200
    assert_error(erin.get("tickets"), 401)


def test_token_of_a_deactivated_person_gets_401(api_as: Callable[[str], ApiClient]) -> None:
    erin = api_as("erin")
    User.objects.filter(pk=erin.user.pk).update(is_active=False)
    assert_error(erin.get("tickets"), 401)


def test_session_auth_works_for_reads_and_needs_csrf_for_writes(
    make_person: Callable[[str], User],
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_person("tina"))
    assert client.get("/api/v1/tickets").status_code == 200
    response = client.post(
        "/api/v1/tickets", {"title": "t", "description": "d"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_openapi_document_lists_every_endpoint() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        "/api/v1/tickets": {"get", "post"},
        "/api/v1/tickets/{number}": {"get"},
        "/api/v1/tickets/{number}/timeline": {"get"},
        "/api/v1/tickets/{number}/identifier": {"get"},
        "/api/v1/calendars": {"get", "post"},
        "/api/v1/calendars/{calendar_id}": {"get", "put", "delete"},
        "/api/v1/sla-policies": {"get"},
        "/api/v1/sla-policies/{priority}": {"put"},
        "/api/v1/me": {"get"},
    }
    for action in ("escalate", "acknowledge", "status", "send-back", "answer", "comments"):
        expected[f"/api/v1/tickets/{{number}}/{action}"] = {"post"}
    for action in ("resolve", "reopen", "cancel", "priority"):
        expected[f"/api/v1/tickets/{{number}}/{action}"] = {"post"}
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    # Enumerations are documented, so a client can offer the right choices.
    schemas = response.json()["components"]["schemas"]
    assert "critical" in str(schemas)


def test_interactive_docs_load() -> None:
    assert Client().get("/api/v1/docs").status_code == 200


# --- create ------------------------------------------------------------------------------------


def test_tier1_agent_opens_a_ticket(api_as: Callable[[str], ApiClient]) -> None:
    response = api_as("tina").post(
        "tickets",
        {"title": "Cannot sign in", "description": "Patient locked out.", "area": "account"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("BL-")
    assert (body["tier"], body["tier_label"]) == (1, "Tier 1")
    assert (body["status"], body["status_label"]) == ("new", "New")
    assert (body["area"], body["area_label"]) == ("account", "Account and sign-in")
    assert body["created_by"] == {"username": "tina", "name": "Tina"}
    assert body["assignee"] is None
    assert body["sla"]["state"] == "not_started"
    assert body["sla"]["due_at"] is None and body["sla"]["target"] is None
    assert set(body["allowed_transitions"]) == set(TRANSITIONS[Status.NEW])
    assert Ticket.objects.get(number=body["number"]).title == "Cannot sign in"


def test_engineer_opens_at_tier3_and_the_clock_starts(
    api_as: Callable[[str], ApiClient], tier3_context: dict[str, Any]
) -> None:
    payload = dict(tier3_context, occurred_at="2026-11-23T09:05:00-05:00", priority="critical")
    body = api_as("erin").post("tickets", payload).json()
    assert body["tier"] == 3
    sla = body["sla"]
    assert sla["state"] == "on_track" and sla["target"] == "acknowledgement"
    assert sla["calendar"] == "Test 24x7"
    assert (sla["ack_target_minutes"], sla["resolve_target_minutes"]) == (60, 1440)
    assert sla["due_at"] == sla["ack_due_at"]
    assert 59 * 60 <= sla["remaining_seconds"] <= 60 * 60
    assert body["occurred_at"].startswith("2026-11-23T14:05:00")  # stored and shown in UTC


def test_the_identifier_is_masked_in_the_ticket(
    api_as: Callable[[str], ApiClient], tier3_context: dict[str, Any]
) -> None:
    erin = api_as("erin")
    created = erin.post("tickets", dict(tier3_context, occurred_at="2026-11-23T14:05:00Z")).json()
    shown = erin.get(f"tickets/{created['number']}")
    assert created["affected_user_id"] == mask_identifier(ICN)
    assert created["affected_user_id"].startswith("ICN-")
    assert ICN not in shown.content.decode()
    assert ICN not in erin.get("tickets").content.decode()


def test_tier2_cannot_open_without_troubleshooting_steps(
    api_as: Callable[[str], ApiClient],
) -> None:
    response = api_as("sam").post("tickets", {"title": "t", "description": "d"})
    body = assert_error(response, 422, "troubleshooting_steps")
    assert set(body["fields"]) == {"troubleshooting_steps"}
    assert not Ticket.objects.exists()


def test_appointments_cannot_be_opened_at_tier3(
    api_as: Callable[[str], ApiClient], tier3_context: dict[str, Any]
) -> None:
    payload = dict(tier3_context, occurred_at="2026-11-23T14:05:00Z", area="appointments")
    assert_error(api_as("erin").post("tickets", payload), 422, "area", says="out of Tier 3 scope")
    assert not Ticket.objects.exists()


BASE = {"title": "Cannot see prescriptions", "description": "Patient called."}


@pytest.mark.parametrize(
    ("payload", "field", "says"),
    [
        ({"description": "no title"}, "title", "required"),
        (BASE | {"title": 42}, "title", "string"),
        (BASE | {"title": "x" * 201}, "title", "200"),
        (BASE | {"title": "  "}, "title", "blank"),
        (BASE | {"priority": "urgent"}, "priority", "critical"),
        (BASE | {"area": "billing"}, "area", "medications"),
        (BASE | {"suspected_upstream": "cerner"}, "suspected_upstream", "vista"),
        (BASE | {"credential": "passport"}, "credential", "idme"),
        (BASE | {"colour": "red"}, "colour", "extra"),
        (BASE | {"occurred_at": "2026-11-23T14:05:00"}, "occurred_at", "timezone"),
        (BASE | {"occurred_at": "yesterday"}, "occurred_at", "datetime"),
        (
            BASE
            | {"occurred_at": "2026-11-23T14:05:00Z", "occurred_until": "2026-11-23T13:00:00Z"},
            "occurred_until",
            "after",
        ),
        (BASE | {"troubleshooting_steps": {"a": 1}}, "troubleshooting_steps", "list"),
        (BASE | {"external_refs": "HRC-1"}, "external_refs", "list"),
        (BASE | {"oracle_health_site": "maybe"}, "oracle_health_site", "bool"),
        (BASE | {"url": "not a url"}, "url", "url"),
        (BASE | {"tier": 4}, "tier", "3"),
        (BASE | {"tier": 3}, "tier", "at most tier 1"),
    ],
)
def test_bad_ticket_input_is_refused_naming_the_field(
    api_as: Callable[[str], ApiClient], payload: dict[str, Any], field: str, says: str
) -> None:
    assert_error(api_as("tina").post("tickets", payload), 422, field, says)
    assert not Ticket.objects.exists()


def test_malformed_json_is_a_400(api_as: Callable[[str], ApiClient]) -> None:
    tina = api_as("tina")
    response = tina.client.post("/api/v1/tickets", "{not json", content_type="application/json")
    assert_error(response, 400, says="parse")
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "null"])
def test_json_that_is_not_an_object_is_refused(
    api_as: Callable[[str], ApiClient], body: str
) -> None:
    tina = api_as("tina")
    response = tina.client.post("/api/v1/tickets", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert "message" in response.json()


def test_people_without_a_role_cannot_open_tickets(call_as: Callable[[str], ApiClient]) -> None:
    assert_error(call_as("nobody").post("tickets", BASE), 403, says="ticket.")
    assert not Ticket.objects.exists()


# --- read one ----------------------------------------------------------------------------------


def test_get_one_ticket_with_every_field(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier3_ticket(sam, tier3_context)
    body = api_as("tina").get(f"tickets/{ticket.number.lower()}").json()
    assert body["number"] == ticket.number
    assert body["escalated_by"] == {"username": "sam", "name": "Sam"}
    assert body["priority_label"] == "Medium"
    assert body["suspected_upstream_label"] == "VistA"
    assert body["credential_label"] == "ID.me"
    assert body["entry_criterion_label"] == "Tier 2 cannot resolve"
    assert body["troubleshooting_steps"] == tier3_context["troubleshooting_steps"]
    assert body["external_refs"] == ["HRC-HD-Y4-0000447389"]
    assert body["oracle_health_site"] is False
    for key in ("ack_due_at", "resolve_due_at", "risk_at", "started_at", "paused"):
        assert key in body["sla"]


def test_unknown_ticket_is_404(api_as: Callable[[str], ApiClient]) -> None:
    assert_error(api_as("erin").get("tickets/BL-999999"), 404, says="BL-999999")
    assert_error(api_as("erin").post("tickets/BL-999999/acknowledge"), 404)
    assert_error(api_as("erin").get("tickets/BL-999999/timeline"), 404)


# --- the queue ---------------------------------------------------------------------------------


def queue(client: ApiClient, **params: Any) -> dict[str, Any]:
    response = client.get("tickets", **params)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def numbers(body: dict[str, Any]) -> list[str]:
    return [item["number"] for item in body["items"]]


def test_queue_pages(api_as: Callable[[str], ApiClient], tina: User) -> None:
    made = [tier1_ticket(tina, title=f"Ticket {i}").number for i in range(5)]
    client = api_as("tina")
    first = queue(client, page_size=2)
    assert (first["count"], first["page"], first["next"], first["previous"]) == (5, 1, 2, None)
    last = queue(client, page_size=2, page=3)
    assert (len(last["items"]), last["next"], last["previous"]) == (1, None, 2)
    seen = numbers(first) + numbers(queue(client, page_size=2, page=2)) + numbers(last)
    assert sorted(seen) == sorted(made)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page_size": 101}, "page_size"),
        ({"page_size": 0}, "page_size"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"page": 10**20}, "page"),  # an offset past the database's integer
        ({"tier": 7}, "tier"),
        ({"mine": "perhaps"}, "mine"),
        ({"status": "lost"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"area": "billing"}, "area"),
        ({"upstream": "cerner"}, "upstream"),
        ({"sla": "late"}, "sla"),
        ({"sort": "colour"}, "sort"),
    ],
)
def test_bad_queue_parameters_are_refused(
    api_as: Callable[[str], ApiClient], params: dict[str, Any], field: str
) -> None:
    body = assert_error(api_as("tina").get("tickets", **params), 422, field)
    assert str(next(iter(params.values()))) in body["message"] or field in body["message"]


def test_queue_filters(
    api_as: Callable[[str], ApiClient],
    tina: User,
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
) -> None:
    low = tier1_ticket(tina, title="Refill button missing", priority="low", area="medications")
    messaging = tier1_ticket(tina, title="Messages gone", area="secure_messaging")
    third = tier3_ticket(sam, tier3_context)
    owned = acknowledged(tier3_ticket(sam, dict(tier3_context, priority="high")), erin)
    done = tier1_ticket(tina, title="Closed one", external_refs=["HRC-HD-Y4-0000999999"])
    services.ticket_cancel(ticket=done, actor=tina, reason="duplicate")
    client = api_as("erin")

    assert set(numbers(queue(client))) == {low.number, messaging.number, third.number, owned.number}
    assert set(numbers(queue(client, tier=3))) == {third.number, owned.number}
    assert numbers(queue(client, priority="low")) == [low.number]
    assert set(numbers(queue(client, priority=["low", "high"]))) == {low.number, owned.number}
    assert set(numbers(queue(client, priority="low,high"))) == {low.number, owned.number}
    assert numbers(queue(client, status="acknowledged")) == [owned.number]
    assert numbers(queue(client, status="canceled")) == [done.number]
    assert numbers(queue(client, area="secure_messaging")) == [messaging.number]
    assert set(numbers(queue(client, upstream="vista"))) == {third.number, owned.number}
    assert numbers(queue(client, assignee="erin")) == [owned.number]
    assert owned.number not in numbers(queue(client, assignee="none"))
    assert numbers(queue(client, mine=True)) == [owned.number]
    assert set(numbers(queue(api_as("tina"), mine="true"))) == {low.number, messaging.number}
    assert numbers(queue(client, q="refill")) == [low.number]
    assert numbers(queue(client, q="HRC-HD-Y4-0000999999")) == []
    assert numbers(queue(client, q="HRC-HD-Y4-0000999999", include_closed=True)) == [done.number]
    assert numbers(queue(client, q=third.number)) == [third.number]
    assert len(numbers(queue(client, include_closed=True))) == 5


def test_queue_is_sorted_by_due_time_by_default(
    api_as: Callable[[str], ApiClient], sam: User, tina: User, tier3_context: dict[str, Any]
) -> None:
    medium = tier3_ticket(sam, tier3_context)
    critical = tier3_ticket(sam, dict(tier3_context, priority="critical"))
    unstarted = tier1_ticket(tina)
    assert critical.next_due_at < medium.next_due_at  # type: ignore[operator]
    client = api_as("erin")
    assert numbers(queue(client)) == [critical.number, medium.number, unstarted.number]
    assert numbers(queue(client, sort="-created")) == [
        unstarted.number,
        critical.number,
        medium.number,
    ]
    assert numbers(queue(client, sort="priority"))[0] == critical.number


def test_queue_filters_by_sla_state(
    api_as: Callable[[str], ApiClient],
    sam: User,
    erin: User,
    tina: User,
    tier3_context: dict[str, Any],
) -> None:
    now = timezone.now()
    on_track = tier3_ticket(sam, tier3_context)
    at_risk = tier3_ticket(sam, tier3_context)
    # Round the clock, so that the overdue business time is not zero on a weekend.
    breached = tier3_ticket(sam, dict(tier3_context, priority="critical"))
    paused = acknowledged(tier3_ticket(sam, tier3_context), erin)
    services.ticket_change_status(
        ticket=paused, actor=erin, to="waiting_partner", note="VistA team"
    )
    tier1_ticket(tina)  # no clock: in no SLA state
    # The clock cannot be fast-forwarded here, so move the stored moments into the past instead.
    Ticket.objects.filter(pk=at_risk.pk).update(next_risk_at=now - timedelta(minutes=5))
    Ticket.objects.filter(pk=breached.pk).update(
        next_risk_at=now - timedelta(hours=2), next_due_at=now - timedelta(hours=1)
    )
    client = api_as("erin")
    assert numbers(queue(client, sla="on_track")) == [on_track.number]
    assert numbers(queue(client, sla="at_risk")) == [at_risk.number]
    assert numbers(queue(client, sla="breached")) == [breached.number]
    assert numbers(queue(client, sla="paused")) == [paused.number]
    states = {item["number"]: item["sla"] for item in queue(client, tier=3)["items"]}
    assert states[at_risk.number]["state"] == "at_risk"
    assert states[breached.number]["state"] == "breached"
    assert states[breached.number]["remaining_seconds"] < 0
    assert states[paused.number]["state"] == "paused" and states[paused.number]["paused"] is True
    assert states[on_track.number]["state_label"] == "On track"


def test_queue_runs_a_fixed_number_of_queries_however_many_rows(
    api_as: Callable[[str], ApiClient],
    sam: User,
    erin: User,
    frank: User,
    tina: User,
    tier3_context: dict[str, Any],
) -> None:
    client = api_as("erin")

    def make(count: int) -> None:
        for i in range(count):
            ticket = tier3_ticket(
                sam, dict(tier3_context, priority=["critical", "high", "medium"][i % 3])
            )
            if i % 2:
                acknowledged(ticket, erin if i % 4 == 1 else frank)
            tier1_ticket(tina, title=f"Tier 1 ticket {i}")

    def queries() -> int:
        client.get("tickets", page_size=100)  # warm-up: last-used time of the token etc.
        with CaptureQueriesContext(connection) as captured:
            response = client.get("tickets", page_size=100)
        assert response.status_code == 200
        return len(captured)

    make(3)
    few = queries()
    make(27)
    assert queue(client, page_size=100)["count"] == 60
    assert queries() == few
    assert few <= 8


# --- escalate ----------------------------------------------------------------------------------


def test_tier1_escalates_to_tier2_with_steps(
    api_as: Callable[[str], ApiClient], tina: User
) -> None:
    ticket = tier1_ticket(tina)
    response = api_as("tina").post(
        f"tickets/{ticket.number}/escalate",
        {"to_tier": 2, "troubleshooting_steps": ["Reset the password", "Tried another browser"]},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["tier"] == 2 and body["escalated_by"]["username"] == "tina"
    assert body["troubleshooting_steps"] == ["Reset the password", "Tried another browser"]
    assert body["sla"]["state"] == "not_started"


def test_escalation_without_steps_names_them_and_saves_nothing(
    api_as: Callable[[str], ApiClient], tina: User
) -> None:
    ticket = tier1_ticket(tina)
    response = api_as("tina").post(
        f"tickets/{ticket.number}/escalate", {"to_tier": 2, "device": "iPhone"}
    )
    body = assert_error(response, 422, "troubleshooting_steps", says="troubleshooting_steps")
    assert set(body["fields"]) == {"troubleshooting_steps"}
    after = fresh(ticket)
    assert (after.tier, after.device) == (1, "")
    assert after.timeline.count() == 1


def test_escalation_to_tier3_lists_exactly_what_is_missing_and_saves_nothing(
    api_as: Callable[[str], ApiClient], tina: User
) -> None:
    ticket = tier1_ticket(tina, troubleshooting_steps=["Cleared cache"])
    services.ticket_escalate(ticket=ticket, actor=tina, to_tier=2)
    response = api_as("sam").post(
        f"tickets/{ticket.number}/escalate", {"to_tier": 3, "description": "Rewritten by Tier 2"}
    )
    body = assert_error(response, 422)
    assert set(body["fields"]) == {"affected_user_id", "occurred_at", "entry_criterion"}
    for name in body["fields"]:
        assert name in body["message"]
    after = fresh(ticket)
    assert after.tier == 2 and after.description == "Patient called the help desk."
    assert after.sla_started_at is None
    assert after.timeline.count() == 2


def test_full_escalation_to_tier3_starts_the_clock(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier2_ticket(sam, tier3_context)
    body = api_as("sam").post(f"tickets/{ticket.number}/escalate", {"to_tier": 3}).json()
    assert body["tier"] == 3 and body["status"] == "new"
    assert body["sla"]["started_at"] is not None and body["sla"]["target"] == "acknowledgement"


def test_escalation_supplies_missing_context_in_the_same_call(
    api_as: Callable[[str], ApiClient], tina: User
) -> None:
    ticket = tier1_ticket(tina, troubleshooting_steps=["Cleared cache"])
    services.ticket_escalate(ticket=ticket, actor=tina, to_tier=2)
    response = api_as("sam").post(
        f"tickets/{ticket.number}/escalate",
        {
            "to_tier": 3,
            "affected_user_id": ICN,
            "occurred_at": "2026-11-23T14:05:00+00:00",
            "entry_criterion": "code_bug",
        },
    )
    assert response.status_code == 200, response.content
    assert response.json()["entry_criterion_label"] == "Reproducible bug needing code-level work"
    assert fresh(ticket).affected_user_id == ICN


def test_appointments_are_refused_at_tier3_with_the_reason(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier2_ticket(sam, dict(tier3_context, area="appointments"))
    response = api_as("sam").post(f"tickets/{ticket.number}/escalate", {"to_tier": 3})
    body = assert_error(response, 422, "area", says="out of Tier 3 scope")
    assert set(body["fields"]) == {"area"}
    assert fresh(ticket).tier == 2


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({}, 422, "to_tier"),
        ({"to_tier": 4}, 422, "to_tier"),
        ({"to_tier": "three"}, 422, "to_tier"),
        ({"to_tier": 3, "occurred_at": "2026-11-23 14:05"}, 422, "occurred_at"),
        ({"to_tier": 3, "entry_criterion": "boredom"}, 422, "entry_criterion"),
        ({"to_tier": 3, "tier": 3}, 422, "tier"),
        ({"to_tier": 2}, 409, None),  # already at Tier 2
    ],
)
def test_bad_escalations(
    api_as: Callable[[str], ApiClient],
    sam: User,
    tier3_context: dict[str, Any],
    payload: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    ticket = tier2_ticket(sam, tier3_context)
    assert_error(api_as("sam").post(f"tickets/{ticket.number}/escalate", payload), status, field)
    assert fresh(ticket).tier == 2


# --- acknowledge and status ------------------------------------------------------------------


def test_acknowledge_takes_ownership_and_a_second_engineer_is_told_who(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier3_ticket(sam, tier3_context)
    body = api_as("erin").post(f"tickets/{ticket.number}/acknowledge").json()
    assert body["status"] == "acknowledged"
    assert body["assignee"] == body["acknowledged_by"] == {"username": "erin", "name": "Erin"}
    assert body["sla"]["target"] == "resolution"
    assert body["sla"]["due_at"] == body["sla"]["resolve_due_at"]
    second = api_as("frank").post(f"tickets/{ticket.number}/acknowledge")
    assert_error(second, 409, says="already acknowledged by Erin")
    assert fresh(ticket).acknowledged_by == User.objects.get(username="erin")


def test_acknowledging_a_tier1_ticket_is_a_conflict(
    api_as: Callable[[str], ApiClient], tina: User
) -> None:
    ticket = tier1_ticket(tina)
    assert_error(api_as("erin").post(f"tickets/{ticket.number}/acknowledge"), 409, says="Tier 1")


def test_status_change_moves_through_the_machine(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    client = api_as("erin")
    body = client.post(f"tickets/{ticket.number}/status", {"to": "investigating"}).json()
    assert body["status"] == "investigating"
    body = client.post(
        f"tickets/{ticket.number}/status", {"to": "waiting_partner", "note": "VistA team"}
    ).json()
    assert (body["status_label"], body["waiting_on"]) == ("Waiting on partner", "VistA team")
    assert body["sla"]["paused"] is True and body["sla"]["state"] == "paused"
    body = client.post(f"tickets/{ticket.number}/status", {"to": "investigating"}).json()
    assert body["sla"]["paused"] is False


def test_starting_the_investigation_of_a_new_ticket_acknowledges_it(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier3_ticket(sam, tier3_context)
    body = api_as("erin").post(f"tickets/{ticket.number}/status", {"to": "investigating"}).json()
    assert body["acknowledged_by"]["username"] == "erin"
    assert body["assignee"]["username"] == "erin"


def test_illegal_transition_is_409_naming_the_allowed_ones(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    response = api_as("erin").post(f"tickets/{ticket.number}/status", {"to": "closed"})
    body = assert_error(response, 409, says="Allowed")
    assert body["allowed"] == sorted(TRANSITIONS[Status.ACKNOWLEDGED])
    assert "Investigating" in body["message"]
    assert fresh(ticket).status == Status.ACKNOWLEDGED


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"to": "lost"}, 422, "to"),
        ({}, 422, "to"),
        ({"to": "resolved"}, 422, "status"),  # resolve has its own endpoint
        ({"to": "waiting_partner"}, 422, "note"),
        ({"to": "investigating", "note": 5}, 422, "note"),
        ({"to": "investigating", "extra": 1}, 422, "extra"),
    ],
)
def test_bad_status_changes(
    api_as: Callable[[str], ApiClient],
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    payload: dict[str, Any],
    status: int,
    field: str,
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    assert_error(api_as("erin").post(f"tickets/{ticket.number}/status", payload), status, field)
    assert fresh(ticket).status == Status.ACKNOWLEDGED


# --- send back and answer ----------------------------------------------------------------------


def test_send_back_and_answer_keep_the_clock_start(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    started = fresh(ticket).sla_started_at
    asked = api_as("erin").post(
        f"tickets/{ticket.number}/send-back", {"question": "Which facility is the patient at?"}
    )
    assert asked.status_code == 200, asked.content
    body = asked.json()
    assert (body["tier"], body["status"]) == (2, "waiting_requester")
    assert body["sla"]["paused"] is True and body["sla"]["state"] == "paused"
    answered = api_as("sam").post(f"tickets/{ticket.number}/answer", {"answer": "Station 648."})
    assert answered.status_code == 200, answered.content
    body = answered.json()
    assert (body["tier"], body["status"]) == (3, "investigating")
    assert body["sla"]["paused"] is False
    assert fresh(ticket).sla_started_at == started
    kinds = [
        entry["kind"] for entry in api_as("erin").get(f"tickets/{ticket.number}/timeline").json()
    ]
    assert kinds[-2:] == ["status", "answered"]
    assert "sent_back" in kinds
    bodies = [
        entry["body"] for entry in api_as("sam").get(f"tickets/{ticket.number}/timeline").json()
    ]
    assert "Which facility is the patient at?" in bodies and "Station 648." in bodies


def test_send_back_needs_a_question(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    client = api_as("erin")
    assert_error(
        client.post(f"tickets/{ticket.number}/send-back", {"question": "  "}), 422, "question"
    )
    assert_error(client.post(f"tickets/{ticket.number}/send-back", {}), 422, "question")
    assert fresh(ticket).tier == 3


def test_answer_when_no_question_is_pending_is_a_conflict(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier3_ticket(sam, tier3_context)
    response = api_as("sam").post(f"tickets/{ticket.number}/answer", {"answer": "Here you go"})
    assert_error(response, 409, says="not waiting")


def test_answer_must_not_be_empty(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    services.ticket_send_back(ticket=ticket, actor=erin, question="Which browser?")
    assert_error(
        api_as("sam").post(f"tickets/{ticket.number}/answer", {"answer": ""}), 422, "answer"
    )
    assert fresh(ticket).status == Status.WAITING_REQUESTER


# --- comments and the timeline ----------------------------------------------------------------


def test_comments_shared_and_internal(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier3_ticket(sam, tier3_context)
    shared = api_as("erin").post(
        f"tickets/{ticket.number}/comments", {"body": "Ask the patient to sign out and in."}
    )
    assert shared.status_code == 201, shared.content
    assert shared.json()["internal"] is False and shared.json()["actor"]["username"] == "erin"
    internal = api_as("erin").post(
        f"tickets/{ticket.number}/comments",
        {"body": "Two MHV ids; pharmacy uses the old one.", "internal": True},
    )
    assert internal.status_code == 201 and internal.json()["internal"] is True

    def bodies(name: str) -> list[str]:
        return [e["body"] for e in api_as(name).get(f"tickets/{ticket.number}/timeline").json()]

    assert "Two MHV ids; pharmacy uses the old one." in bodies("erin")
    assert "Two MHV ids; pharmacy uses the old one." in bodies("maggie")
    for lower_tier in ("tina", "sam"):
        assert "Two MHV ids; pharmacy uses the old one." not in bodies(lower_tier)
        assert "Ask the patient to sign out and in." in bodies(lower_tier)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({}, "body"),
        ({"body": "x", "internal": "perhaps"}, "internal"),
        ({"body": ["x"]}, "body"),
    ],
)
def test_bad_comments(
    api_as: Callable[[str], ApiClient], tina: User, payload: dict[str, Any], field: str
) -> None:
    ticket = tier1_ticket(tina)
    assert_error(api_as("tina").post(f"tickets/{ticket.number}/comments", payload), 422, field)
    assert ticket.timeline.count() == 1


def test_timeline_entries_carry_who_when_what(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    everything = api_as("erin").get(f"tickets/{ticket.number}/timeline").json()
    # Other apps may add their own lines (e.g. on-call routing); these four come in this order.
    ours = {"created", "escalated", "acknowledged", "assigned"}
    entries = [e for e in everything if e["kind"] in ours]
    assert [e["kind"] for e in entries] == ["created", "escalated", "acknowledged", "assigned"]
    assert [e["id"] for e in everything] == sorted(e["id"] for e in everything)
    escalated = entries[1]
    assert escalated["actor"] == {"username": "sam", "name": "Sam"}
    assert (escalated["old_value"], escalated["new_value"]) == ("Tier 2", "Tier 3")
    assert escalated["kind_label"] == "Escalated"
    assert entries[2]["at"] >= escalated["at"]


# --- resolve, reopen, cancel -------------------------------------------------------------------


def test_resolve_then_reopen(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    response = api_as("erin").post(
        f"tickets/{ticket.number}/resolve",
        {
            "summary": "Pharmacy lookup used the patient's second MHV id.",
            "root_cause": "identity",
            "workaround": "Refill by phone.",
            "code_change_needed": True,
            "follow_up_url": "https://github.com/example/portal/issues/1042",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["root_cause_label"]) == (
        "resolved",
        "Identity / correlation problem",
    )
    assert body["code_change_needed"] is True and body["resolved_at"] is not None
    assert body["sla"]["state"] == "met" and body["sla"]["remaining_seconds"] is None
    assert body["allowed_transitions"] == sorted(TRANSITIONS[Status.RESOLVED])
    reopened = api_as("sam").post(
        f"tickets/{ticket.number}/reopen", {"reason": "Still empty today."}
    )
    assert reopened.status_code == 200, reopened.content
    assert reopened.json()["status"] == "investigating" and reopened.json()["resolved_at"] is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"root_cause": "identity"}, "summary"),
        ({"summary": "  ", "root_cause": "identity"}, "summary"),
        ({"summary": "Fixed"}, "root_cause"),
        ({"summary": "Fixed", "root_cause": "gremlins"}, "root_cause"),
        (
            {"summary": "Fixed", "root_cause": "identity", "follow_up_url": "not a link"},
            "follow_up_url",
        ),
        (
            {"summary": "Fixed", "root_cause": "identity", "code_change_needed": "dunno"},
            "code_change_needed",
        ),
    ],
)
def test_bad_resolutions(
    api_as: Callable[[str], ApiClient],
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    payload: dict[str, Any],
    field: str,
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    assert_error(api_as("erin").post(f"tickets/{ticket.number}/resolve", payload), 422, field)
    after = fresh(ticket)
    assert after.status == Status.ACKNOWLEDGED and after.resolution_summary == ""


def test_a_closed_ticket_cannot_be_reopened(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    services.ticket_resolve(ticket=ticket, actor=erin, summary="Fixed", root_cause="configuration")
    assert (
        services.tickets_close_resolved(
            now=timezone.now() + timedelta(days=4), after=timedelta(days=3)
        )
        == 1
    )
    response = api_as("sam").post(f"tickets/{ticket.number}/reopen", {"reason": "Again"})
    body = assert_error(response, 409, says="Closed")
    assert body["allowed"] == []
    assert fresh(ticket).status == Status.CLOSED


def test_only_resolved_tickets_are_reopened(
    api_as: Callable[[str], ApiClient], sam: User, erin: User, tier3_context: dict[str, Any]
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    response = api_as("erin").post(f"tickets/{ticket.number}/reopen", {"reason": "Why not"})
    assert_error(response, 409, says="Resolved")
    assert fresh(ticket).status == Status.ACKNOWLEDGED


def test_reopen_and_cancel_need_a_reason(api_as: Callable[[str], ApiClient], tina: User) -> None:
    ticket = tier1_ticket(tina)
    client = api_as("tina")
    assert_error(client.post(f"tickets/{ticket.number}/cancel", {"reason": ""}), 422, "reason")
    assert_error(client.post(f"tickets/{ticket.number}/cancel", {}), 422, "reason")
    assert fresh(ticket).status == Status.NEW


def test_cancel(api_as: Callable[[str], ApiClient], tina: User) -> None:
    ticket = tier1_ticket(tina)
    body = api_as("tina").post(f"tickets/{ticket.number}/cancel", {"reason": "Duplicate"}).json()
    assert body["status"] == "canceled" and body["allowed_transitions"] == []
    again = api_as("tina").post(f"tickets/{ticket.number}/cancel", {"reason": "Duplicate"})
    assert_error(again, 409)


# --- priority ----------------------------------------------------------------------------------


def test_priority_change_re_evaluates_the_due_time_from_the_start(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier3_ticket(sam, tier3_context)
    before = fresh(ticket)
    assert before.sla_started_at is not None
    response = api_as("erin").post(
        f"tickets/{ticket.number}/priority", {"priority": "critical", "reason": "Several patients"}
    )
    assert response.status_code == 200, response.content
    sla = response.json()["sla"]
    after = fresh(ticket)
    assert after.sla_started_at == before.sla_started_at
    assert after.ack_due_at == before.sla_started_at + timedelta(minutes=60)  # 24x7 calendar
    assert after.resolve_due_at == before.sla_started_at + timedelta(minutes=1440)
    assert (sla["ack_target_minutes"], sla["calendar"]) == (60, "Test 24x7")
    assert response.json()["priority_label"] == "Critical"
    entries = api_as("tina").get(f"tickets/{ticket.number}/timeline").json()
    change = entries[-1]
    assert (change["kind"], change["old_value"], change["new_value"]) == (
        "priority",
        "Medium",
        "Critical",
    )
    assert change["body"] == "Several patients"
    assert datetime.fromisoformat(change["data"]["new_due"]) == after.next_due_at
    assert datetime.fromisoformat(change["data"]["old_due"]) == before.next_due_at


def test_bad_priority_changes(
    api_as: Callable[[str], ApiClient], sam: User, tier3_context: dict[str, Any]
) -> None:
    ticket = tier3_ticket(sam, tier3_context)
    client = api_as("erin")
    assert_error(
        client.post(f"tickets/{ticket.number}/priority", {"priority": "urgent"}), 422, "priority"
    )
    assert_error(client.post(f"tickets/{ticket.number}/priority", {}), 422, "priority")
    assert fresh(ticket).priority == "medium"


# --- the identifier ----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", EVERYONE)
def test_identifier_is_revealed_to_engineers_and_admins_only_and_audited(
    call_as: Callable[[str], ApiClient],
    sam: User,
    tier3_context: dict[str, Any],
    persona: str,
) -> None:
    ticket = tier3_ticket(sam, tier3_context)
    audited_before = AuditEvent.objects.filter(action="ticket.identifier.view").count()
    response = call_as(persona).get(f"tickets/{ticket.number}/identifier", reason="checking logs")
    rows = AuditEvent.objects.filter(action="ticket.identifier.view")
    if persona in ENGINEERS | {"ada"}:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body == {
            "number": ticket.number,
            "affected_user_id": ICN,
            "masked": mask_identifier(ICN),
        }
        assert rows.count() == audited_before + 1
        row = rows.first()
        assert row is not None and row.actor is not None
        assert (row.actor.username, row.ticket_number, row.unmasked) == (
            persona,
            ticket.number,
            True,
        )
        assert row.reason == "checking logs"
        assert ICN not in row.subject_digest
    else:
        assert_error(response, 403)
        assert rows.count() == audited_before


# --- who may do what, through the API ----------------------------------------------------------


def setup_tier1(people: dict[str, User], context: dict[str, Any]) -> Ticket:
    return tier1_ticket(people["tina"], troubleshooting_steps=["Reset password"])


def setup_tier2(people: dict[str, User], context: dict[str, Any]) -> Ticket:
    return tier2_ticket(people["sam"], context)


def setup_tier3(people: dict[str, User], context: dict[str, Any]) -> Ticket:
    return tier3_ticket(people["sam"], context)


def setup_acknowledged(people: dict[str, User], context: dict[str, Any]) -> Ticket:
    return acknowledged(setup_tier3(people, context), people["frank"])


def setup_sent_back(people: dict[str, User], context: dict[str, Any]) -> Ticket:
    ticket = setup_acknowledged(people, context)
    return services.ticket_send_back(
        ticket=ticket, actor=people["frank"], question="Which browser?"
    )


def setup_resolved(people: dict[str, User], context: dict[str, Any]) -> Ticket:
    ticket = setup_acknowledged(people, context)
    return services.ticket_resolve(
        ticket=ticket, actor=people["frank"], summary="Fixed", root_cause="configuration"
    )


Setup = Callable[[dict[str, User], dict[str, Any]], Ticket]

# action: (setup, method, path suffix, body, who may). Written out, not derived from the matrix.
ROLE_CASES: dict[str, tuple[Setup, str, str, dict[str, Any] | None, set[str]]] = {
    "view": (setup_tier3, "get", "", None, ALL_ROLES),
    "timeline": (setup_tier3, "get", "/timeline", None, ALL_ROLES),
    "escalate_to_tier2": (
        setup_tier1,
        "post",
        "/escalate",
        {"to_tier": 2},
        {"tina", "sam"} | LEADS,
    ),
    "escalate_to_tier3": (setup_tier2, "post", "/escalate", {"to_tier": 3}, {"sam"} | LEADS),
    "acknowledge": (setup_tier3, "post", "/acknowledge", None, ENGINEERS),
    "status": (setup_acknowledged, "post", "/status", {"to": "investigating"}, ENGINEERS | LEADS),
    "send_back": (
        setup_acknowledged,
        "post",
        "/send-back",
        {"question": "Which?"},
        ENGINEERS | LEADS,
    ),
    "answer": (setup_sent_back, "post", "/answer", {"answer": "Chrome"}, {"sam"} | LEADS),
    "comment_shared": (setup_tier3, "post", "/comments", {"body": "Try again"}, ALL_ROLES),
    "comment_internal": (
        setup_tier3,
        "post",
        "/comments",
        {"body": "Look at MPI", "internal": True},
        ENGINEERS | LEADS,
    ),
    "resolve": (
        setup_acknowledged,
        "post",
        "/resolve",
        {"summary": "Fixed", "root_cause": "configuration"},
        ENGINEERS | LEADS,
    ),
    "reopen": (setup_resolved, "post", "/reopen", {"reason": "Back"}, {"sam"} | ENGINEERS | LEADS),
    "cancel_below_tier3": (
        setup_tier1,
        "post",
        "/cancel",
        {"reason": "Dup"},
        {"tina", "sam"} | LEADS,
    ),
    "cancel_at_tier3": (setup_tier3, "post", "/cancel", {"reason": "Dup"}, ENGINEERS | LEADS),
    "priority": (
        setup_tier3,
        "post",
        "/priority",
        {"priority": "high"},
        {"sam"} | ENGINEERS | LEADS,
    ),
}


@pytest.mark.parametrize("persona", EVERYONE)
@pytest.mark.parametrize("case", sorted(ROLE_CASES))
def test_who_may_do_what(
    call_as: Callable[[str], ApiClient],
    make_person: Callable[[str], User],
    tier3_context: dict[str, Any],
    case: str,
    persona: str,
) -> None:
    setup, method, suffix, payload, allowed = ROLE_CASES[case]
    people = {name: make_person(name) for name in ("tina", "sam", "frank")}
    ticket = setup(people, tier3_context)
    client = call_as(persona)
    before = (fresh(ticket).updated_at, ticket.timeline.count())
    path = f"tickets/{ticket.number}{suffix}"
    response = client.get(path) if method == "get" else client.post(path, payload)
    if persona in allowed:
        assert response.status_code in (200, 201), (persona, response.content)
    else:
        assert_error(response, 403)
        assert (fresh(ticket).updated_at, ticket.timeline.count()) == before


@pytest.mark.parametrize("persona", EVERYONE)
def test_who_may_open_tickets(
    call_as: Callable[[str], ApiClient], tier3_context: dict[str, Any], persona: str
) -> None:
    payload = dict(tier3_context, occurred_at="2026-11-23T14:05:00Z")
    response = call_as(persona).post("tickets", payload)
    if persona in ALL_ROLES:
        assert response.status_code == 201, response.content
        expected_tier = 1 if persona == "tina" else 2 if persona == "sam" else 3
        assert response.json()["tier"] == expected_tier
    else:
        assert_error(response, 403)
        assert not Ticket.objects.exists()


def test_people_without_a_role_see_nothing(call_as: Callable[[str], ApiClient], tina: User) -> None:
    ticket = tier1_ticket(tina)
    client = call_as("nobody")
    assert_error(client.get("tickets"), 403)
    assert_error(client.get(f"tickets/{ticket.number}"), 403)


# --- garbage never becomes a 500 --------------------------------------------------------------

ACTIONS = ["escalate", "acknowledge", "status", "send-back", "answer", "comments", "resolve"]
ACTIONS += ["reopen", "cancel", "priority"]
GARBAGE = ["{", "[]", '"x"', "null", "0", '{"to": null, "priority": [], "body": {}}', "\xff\xfe"]


@pytest.mark.parametrize("action", ACTIONS)
def test_garbage_bodies_get_a_4xx_never_a_500(
    api_as: Callable[[str], ApiClient],
    sam: User,
    erin: User,
    tier3_context: dict[str, Any],
    action: str,
) -> None:
    ticket = acknowledged(tier3_ticket(sam, tier3_context), erin)
    client = api_as("ada")
    for garbage in GARBAGE:
        response = client.client.post(
            f"/api/v1/tickets/{ticket.number}/{action}",
            garbage.encode("latin-1"),
            content_type="application/json",
        )
        if action == "acknowledge":
            # No body expected; ada is no engineer, so she is refused whatever she sends.
            assert response.status_code in (400, 403), (garbage, response.content)
        else:
            assert 400 <= response.status_code < 500, (garbage, response.content)
        assert "message" in response.json()


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        ("post", "tickets", BASE | {"title": "a\x00b"}, "title"),
        (
            "post",
            "tickets",
            BASE | {"troubleshooting_steps": ["ok", "a\x00b"]},
            "troubleshooting_steps",
        ),
        ("get", "tickets", {"q": "a\x00b"}, "q"),
        ("get", "tickets", {"assignee": "a\x00b"}, "assignee"),
        ("post", "tickets/{number}/comments", {"body": "a\x00b"}, "body"),
        ("post", "tickets/{number}/cancel", {"reason": "a\x00b"}, "reason"),
        ("get", "tickets/{number}/identifier", {"reason": "a\x00b"}, "reason"),
    ],
)
def test_nul_characters_are_refused_naming_the_field(
    api_as: Callable[[str], ApiClient],
    tina: User,
    method: str,
    path: str,
    payload: dict[str, Any],
    field: str,
) -> None:
    # PostgreSQL cannot store NUL; without this check the database error would be a 500.
    ticket = tier1_ticket(tina)
    client = api_as("ada")
    url = path.format(number=ticket.number)
    response = client.get(url, **payload) if method == "get" else client.post(url, payload)
    assert_error(response, 422, field, says="NUL")
    assert Ticket.objects.count() == 1 and fresh(ticket).status == Status.NEW


def test_a_nul_in_the_ticket_number_is_a_404(
    api_as: Callable[[str], ApiClient], tina: User
) -> None:
    ticket = tier1_ticket(tina)
    assert_error(api_as("tina").get(f"tickets/{ticket.number}%00"), 404)
