"""/api/v1/workbench/: the same permission, masking and audit rules as the pages."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from backline.audit.models import AuditEvent
from backline.conftest import ApiClient
from backline.tickets.models import Ticket
from backline.workbench.models import PinnedEvidence
from backline.workbench.tests.conftest import ICN_A, UUID_A, UUID_B

pytestmark = pytest.mark.django_db
Api = Callable[[str], ApiClient]
R2 = "20000000-aaaa-4bbb-8ccc-000000000002"
PIN = {"request_id": R2, "window_from": "2025-01-06T08:00:00Z", "window_to": "2025-01-06T11:00:00Z"}


def test_timeline_for_tier3_is_stitched_and_unmasked(
    api_as: Api, logs: Any, ticket: Ticket
) -> None:
    response = api_as("erin").get(f"workbench/tickets/{ticket.number}/timeline")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["banner"] == f"Unmasked for {ticket.number}" and body["unmasked"] is True
    requests = [item["request"] for item in body["items"] if "request" in item]
    gaps = [item["gap"] for item in body["items"] if "gap" in item]
    assert [r["request_id"][:1] for r in requests] == ["1", "2", "3"]
    assert len(gaps) == 2 and body["first_failure"] == "2025-01-06T09:55:00Z"
    failing = requests[1]
    assert failing["first_failure"] and failing["calls"][0]["status_code"] == 503
    assert ICN_A in failing["calls"][0]["message"]
    assert requests[2]["sign_in"]
    assert AuditEvent.objects.get(action="workbench.timeline").unmasked


def test_timeline_for_tier2_is_masked_and_tier1_refused(
    api_as: Api, logs: Any, ticket: Ticket
) -> None:
    body = api_as("sam").get(f"workbench/tickets/{ticket.number}/timeline").content.decode()
    assert (
        UUID_A not in body
        and ICN_A not in body
        and '"unmasked": false' in body.replace(":false", ": false")
    )
    assert api_as("tina").get(f"workbench/tickets/{ticket.number}/timeline").status_code == 403
    assert api_as("erin").get("workbench/tickets/BL-9/timeline").status_code == 404
    assert (
        api_as("erin").get(f"workbench/tickets/{ticket.number}/timeline", before=0).status_code
        == 400
    )


def test_pin_list_and_unpin(api_as: Api, logs: Any, ticket: Ticket) -> None:
    erin = api_as("erin")
    created = erin.post(f"workbench/tickets/{ticket.number}/evidence", {**PIN, "note": "the 503"})
    assert created.status_code == 201, created.content
    pin = created.json()
    assert len(pin["events"]) == 2 and UUID_A in pin["query"]
    one = erin.post(
        f"workbench/tickets/{ticket.number}/evidence", {**PIN, "event_ts": "2025-01-06T09:55:00Z"}
    )
    assert one.status_code == 201 and len(one.json()["events"]) == 1
    masked = api_as("sam").get(f"workbench/tickets/{ticket.number}/evidence").json()
    assert [len(p["events"]) for p in masked] == [2, 1]
    assert UUID_A not in json.dumps(masked) and masked[0]["query"] == ""
    assert api_as("tina").get(f"workbench/tickets/{ticket.number}/evidence").status_code == 403
    assert erin.delete(f"workbench/tickets/{ticket.number}/evidence/{pin['id']}").status_code == 204
    assert erin.delete(f"workbench/tickets/{ticket.number}/evidence/{pin['id']}").status_code == 404
    assert [p["id"] for p in erin.get(f"workbench/tickets/{ticket.number}/evidence").json()] == [
        one.json()["id"]
    ]
    assert PinnedEvidence.objects.count() == 2  # unpinned is kept, marked removed
    views = AuditEvent.objects.filter(action="workbench.evidence.view").order_by("id")
    assert [v.unmasked for v in views] == [False, True]


def test_pin_refuses_bad_input(api_as: Api, logs: Any, ticket: Ticket) -> None:
    erin = api_as("erin")
    path = f"workbench/tickets/{ticket.number}/evidence"
    assert erin.post(path, {**PIN, "window_from": "yesterday"}).status_code == 400
    assert erin.post(path, {**PIN, "request_id": " "}).status_code == 422
    assert erin.post(path, {**PIN, "request_id": "nope"}).status_code == 404
    assert api_as("tina").post(path, PIN).status_code == 403
    assert not PinnedEvidence.objects.exists()


def test_audit_search_is_for_admins(api_as: Api, logs: Any, ticket: Ticket) -> None:
    api_as("erin").get(f"workbench/tickets/{ticket.number}/timeline")
    api_as("sam").get(
        "workbench/logs/export", from_time="2025-01-06T08:00:00Z", to_time="2025-01-06T12:00:00Z"
    )
    assert api_as("erin").get("workbench/audit").status_code == 403
    ada = api_as("ada")
    by_patient = ada.get("workbench/audit", subject=ICN_A.lower()).json()  # case does not matter
    assert by_patient["count"] == 0  # the ticket names the UUID, not the ICN
    by_uuid = ada.get("workbench/audit", subject=UUID_A.upper()).json()
    assert [r["action"] for r in by_uuid["rows"]] == ["workbench.timeline"]
    exports = ada.get("workbench/audit", action="workbench.export").json()
    assert exports["rows"][0]["actor"] == "sam" and exports["rows"][0]["result_count"] == 7
    assert ada.get("workbench/audit", from_time="2025-01-06T08:00:00").status_code == 400


def test_export_rules(api_as: Api, logs: Any, ticket: Ticket) -> None:
    window = {"from_time": "2025-01-06T08:00:00Z", "to_time": "2025-01-06T12:00:00Z"}
    masked = api_as("sam").get("workbench/logs/export", format="json", **window)
    assert masked.status_code == 200 and UUID_A not in masked.content.decode()
    scoped = api_as("erin").get(
        "workbench/logs/export", format="json", ticket=ticket.number, scope="user", **window
    )
    events = json.loads(scoped.content)
    assert len(events) == 6 and {e["user_id"] for e in events} == {UUID_A}
    admin = api_as("ada").get(
        "workbench/logs/export",
        format="csv",
        reason="Audit of data access SR-12",
        cols="user_id",
        **window,
    )
    assert UUID_B in admin.content.decode()
    bad = api_as("sam").get("workbench/logs/export", q="a OR (b", **window)
    assert bad.status_code == 400 and bad.json()["position"] == 7
    assert api_as("tina").get("workbench/logs/export", **window).status_code == 403
    assert (
        api_as("erin")
        .get("workbench/logs/export", reason="I am curious today", **window)
        .status_code
        == 403
    )
    rows = AuditEvent.objects.filter(action="workbench.export").order_by("id")
    assert [(r.actor.username, r.unmasked) for r in rows] == [
        ("sam", False),
        ("erin", True),
        ("ada", True),
    ]


def test_openapi_documents_the_endpoints(api_as: Api) -> None:
    paths = api_as("sam").get("openapi.json").json()["paths"]
    for path in (
        "/api/v1/workbench/tickets/{number}/timeline",
        "/api/v1/workbench/tickets/{number}/evidence",
        "/api/v1/workbench/audit",
        "/api/v1/workbench/logs/export",
    ):
        assert path in paths
