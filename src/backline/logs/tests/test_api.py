"""GET /api/v1/logs/*: who may search, masking for Tier 2, audit rows, errors as JSON."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from backline.audit.masking import log_redactor
from backline.audit.models import AuditEvent
from backline.conftest import ApiClient
from backline.logs.ingest import import_file
from backline.logs.services import get_store
from backline.logs.tests.conftest import write_lines


@pytest.fixture
def logs(var_dir: Path) -> list[dict[str, Any]]:
    now = timezone.now()
    events = [
        {
            "timestamp": (now - timezone.timedelta(minutes=i)).isoformat(),
            "service": "vets-api",
            "status": "error" if i % 2 else "info",
            "message": f"RX139 refill failed {i} for ICN 1012345678V123456",
            "user_uuid": "0f8c1a9e-1111-4c2b-9a6e-5d1f2e3a4b5c",
            "payload": {"icn": "1012345678V123456"},
            "error_code": "RX139",
        }
        for i in range(10)
    ]
    import_file(get_store(), write_lines(var_dir / "e.jsonl", events))
    return events


Api = Callable[[str], ApiClient]


USER = "0f8c1a9e-1111-4c2b-9a6e-5d1f2e3a4b5c"
ICN = "1012345678V123456"


@pytest.mark.parametrize("who", ["tina", "nobody"])
def test_tier1_and_people_without_roles_see_no_logs(api_as: Api, logs: Any, who: str) -> None:
    for path in ("logs/search", "logs/facets", "logs/timeseries"):
        assert api_as(who).get(path, query="*", **{"from": "now-1h"}).status_code == 403
    assert not AuditEvent.objects.filter(action="logs.search").exists()


def test_tier3_sees_masked_events_too_and_the_search_is_audited(api_as: Api, logs: Any) -> None:
    # Unmasking needs a ticket (the workbench checkpoint); the bulk API never unmasks.
    response = api_as("erin").get("logs/search", query="status:error", **{"from": "now-1h"})
    assert response.status_code == 200, response.content
    events = response.json()["events"]
    assert len(events) == 5
    assert events[0]["user_id"] == log_redactor().token("UUID", USER)
    assert events[0]["attrs"]["payload"]["icn"] == log_redactor().token("ICN", ICN)
    row = AuditEvent.objects.get(action="logs.search")
    assert (row.actor.username, row.query, row.result_count, row.unmasked) == (
        "erin",
        "status:error",
        5,
        False,
    )


def test_tier2_sees_identifiers_masked(api_as: Api, logs: Any) -> None:
    uuid_token, icn_token = log_redactor().token("UUID", USER), log_redactor().token("ICN", ICN)
    assert uuid_token.startswith("[UUID:") and len(uuid_token) == len("[UUID:abcdef]")
    response = api_as("sam").get("logs/search", query="", limit=3, **{"from": "now-1h"})
    event = response.json()["events"][0]
    assert event["user_id"] == uuid_token
    assert event["attrs"]["payload"]["icn"] == icn_token
    # Identifiers inside free text are masked too; the rest of the message stays readable.
    assert event["message"] == f"RX139 refill failed 0 for ICN {icn_token}"
    assert event["error_code"] == "RX139"
    assert response.json()["next_cursor"]
    facets = api_as("sam").get(
        "logs/facets", fields="@user_uuid,service,message", limit=1, **{"from": "now-1h"}
    )
    values = facets.json()["facets"]
    assert values["@user_uuid"] == [{"value": uuid_token, "count": 10}]
    assert values["service"] == [{"value": "vets-api", "count": 10}]
    assert values["message"][0]["value"].endswith(f"for ICN {icn_token}")
    assert AuditEvent.objects.filter(action="logs.search", unmasked=False).count() == 2


def test_tier3_facets_are_masked(api_as: Api, logs: Any) -> None:
    facets = api_as("erin").get("logs/facets", fields="@user_uuid,message", **{"from": "now-1h"})
    values = facets.json()["facets"]
    assert values["@user_uuid"] == [{"value": log_redactor().token("UUID", USER), "count": 10}]
    assert not any(ICN in v["value"] for v in values["message"])


def test_syntax_errors_are_400_with_position_and_expected(api_as: Api, logs: Any) -> None:
    response = api_as("erin").get("logs/search", query="service:(a OR b")
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body["position"], int) and body["expected"]
    assert not AuditEvent.objects.filter(action="logs.search").exists()


def test_bad_times_and_intervals_are_400(api_as: Api, logs: Any) -> None:
    assert api_as("erin").get("logs/search", **{"from": "yesterday"}).status_code == 400
    assert api_as("erin").get("logs/timeseries", interval="5 fortnights").status_code == 400


def test_timeseries_and_aggregate(api_as: Api, logs: Any) -> None:
    series = api_as("mona").get(
        "logs/timeseries", query="status:error", interval="1h", **{"from": "now-2h"}
    )
    assert sum(b["count"] for b in series.json()["buckets"]) == 5
    distinct = api_as("erin").get(
        "logs/aggregate",
        kind="distinct",
        field="@user_uuid",
        group_by="error_code",
        **{"from": "now-1h"},
    )
    assert distinct.json()["rows"] == [{"group": "RX139", "distinct": 1.0}]
