"""The health API with personas: who may look, what is audited, and that no identifier leaks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from backline.audit.models import AuditEvent
from backline.conftest import ApiClient
from backline.health.tests.conftest import LATENCY_START, OUTAGE_START, World

pytestmark = pytest.mark.django_db

AT = (OUTAGE_START.replace(minute=30)).isoformat()
IDENTIFIER = re.compile(
    r"\d{10}V\d{6}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|@example\.com",
    re.IGNORECASE,
)


def no_identifiers(body: bytes, world: World) -> None:
    text = body.decode()
    assert not IDENTIFIER.search(text), IDENTIFIER.search(text)
    assert not any(uuid in text for uuid in world.affected_uuids)


ENDPOINTS: list[tuple[str, dict[str, str]]] = [
    ("health/upstreams", {"window": "1h", "at": AT}),
    ("health/upstreams/vista", {"window": "1h", "at": AT}),
    ("health/facilities/589", {"window": "1h", "at": AT}),
    ("health/cohorts", {"field": "data_source", "from": "now-1h", "to": "now"}),
]


@pytest.mark.parametrize(("path", "params"), ENDPOINTS)
@pytest.mark.parametrize("persona", ["tina", "nobody"])
def test_tier1_and_people_without_a_role_are_refused(
    api_as: Callable[[str], ApiClient],
    health_logs: World,
    persona: str,
    path: str,
    params: dict[str, str],
) -> None:
    response = api_as(persona).get(path, **params)
    assert response.status_code == 403
    assert "health.view" in response.json()["message"]
    assert not AuditEvent.objects.filter(action="health.view").exists()


def test_signed_out_is_401(client: Any, health_logs: World) -> None:
    assert client.get("/api/v1/health/upstreams").status_code == 401


@pytest.mark.parametrize("persona", ["sam", "erin", "mona", "ivan", "maggie", "ada"])
def test_tier2_and_up_see_the_overview_and_each_look_is_audited(
    api_as: Callable[[str], ApiClient], health_logs: World, persona: str
) -> None:
    client = api_as(persona)
    response = client.get("health/upstreams", window="1h", at=AT)
    assert response.status_code == 200, response.content
    body = response.json()
    states = {row["name"]: row["state"]["state"] for row in body["upstreams"]}
    assert states["vista"] == "degraded"
    assert body["worst_facilities"][0]["station"] == health_logs.outage.target
    assert body["worst_facilities"][0]["state"] == "down"
    assert len(body["upstreams"][0]["calls_per_bucket"]) == 60
    no_identifiers(response.content, health_logs)
    row = AuditEvent.objects.get(action="health.view")
    assert row.actor == client.user
    assert row.query == "@upstream:*"
    assert row.detail["view"] == "overview"
    assert row.result_count == sum(r["window"]["calls"] for r in body["upstreams"])
    assert row.unmasked is False


def test_upstream_dashboard(api_as: Callable[[str], ApiClient], health_logs: World) -> None:
    response = api_as("sam").get("health/upstreams/vista", window="4h", at=AT)
    assert response.status_code == 200
    body = response.json()
    assert body["state"]["state"] == "degraded"
    assert f"station {health_logs.outage.target}" in body["state"]["text"]
    assert body["parts"][0]["key"] == health_logs.outage.target
    assert body["parts"][0]["state"]["text"].startswith("down: 100% of vista at station")
    assert len(body["points"]) == len(body["last_week"]) == 48
    assert body["interval_seconds"] == 300
    no_identifiers(response.content, health_logs)
    audit = AuditEvent.objects.get(action="health.view")
    assert audit.query == "@upstream:vista"
    assert audit.detail["upstream"] == "vista"


def test_facility_dashboard(api_as: Callable[[str], ApiClient], health_logs: World) -> None:
    station = health_logs.outage.target
    response = api_as("erin").get(f"health/facilities/{station}", window="1h", at=AT)
    assert response.status_code == 200
    body = response.json()
    assert body["state"]["state"] == "down"
    assert body["parts"][0]["key"] == "vista"
    no_identifiers(response.content, health_logs)
    assert AuditEvent.objects.get(action="health.view").detail["station"] == station


def test_cohorts(api_as: Callable[[str], ApiClient], health_logs: World) -> None:
    response = api_as("sam").get(
        "health/cohorts",
        field="data_source",
        **{"from": LATENCY_START.isoformat(), "to": OUTAGE_START.isoformat()},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    oracle = next(c for c in body["cohorts"] if c["value"] == "ORACLE_HEALTH")
    assert oracle["flagged"] is True
    assert "x overall" in oracle["flags"][0]
    assert body["overall"]["p95_ms"] < oracle["p95_ms"]
    assert body["query"] == "-@upstream:*"
    no_identifiers(response.content, health_logs)
    audit = AuditEvent.objects.get(action="health.view")
    assert audit.detail["field"] == "data_source"
    assert audit.result_count == body["overall"]["events"]


def test_cohorts_refuse_identifier_fields_and_bad_queries(
    api_as: Callable[[str], ApiClient], health_logs: World
) -> None:
    client = api_as("erin")
    refused = client.get("health/cohorts", field="@user_uuid")
    assert refused.status_code == 422
    assert "identifies patients" in refused.json()["fields"]["field"][0]
    bad = client.get("health/cohorts", field="facility", q="status:(error")
    assert bad.status_code == 422
    assert "Query syntax error" in bad.json()["message"]
    bad_time = client.get("health/cohorts", field="facility", **{"from": "yesterday"})
    assert bad_time.status_code == 422
    assert "from" in bad_time.json()["fields"]
    assert not AuditEvent.objects.filter(action="health.view").exists()


def test_unknown_names(api_as: Callable[[str], ApiClient], health_logs: World) -> None:
    client = api_as("sam")
    assert client.get("health/upstreams/nope").status_code == 404
    assert client.get("health/facilities/ab;c").status_code == 422
    assert client.get("health/upstreams", window="2h").status_code == 422
    assert client.get("health/upstreams", at="soon").status_code == 422


def test_openapi_documents_the_endpoints(client: Any) -> None:
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    paths = schema["paths"]
    for path in (
        "/api/v1/health/upstreams",
        "/api/v1/health/upstreams/{name}",
        "/api/v1/health/facilities/{station}",
        "/api/v1/health/cohorts",
    ):
        assert "get" in paths[path], path
        assert "403" in paths[path]["get"]["responses"]
    params = {p["name"] for p in paths["/api/v1/health/cohorts"]["get"]["parameters"]}
    assert {"field", "q", "from", "to"} <= params
