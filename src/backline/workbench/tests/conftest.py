"""Fixtures for the workbench: a small hand-written log store under tmp_path and a Tier 3 ticket.

The store holds four requests of one patient (A) around 10:00 UTC on 6 January 2025 -- a fine
prescriptions request, one whose VistA call failed, a sign-in after a quiet hour -- and one
request of another patient (B) in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backline.accounts.models import User
from backline.logs.ingest import import_file
from backline.logs.services import get_store
from backline.logs.store import forget_store
from backline.logs.tests.conftest import write_lines
from backline.tickets import services as ticket_services
from backline.tickets.models import Ticket

T0 = datetime(2025, 1, 6, 10, 0, tzinfo=UTC)
UUID_A = "0f8c1a9e-1111-4c2b-9a6e-5d1f2e3a4b5c"
ICN_A = "1012345678V123456"
UUID_B = "7d3e2f10-2222-4a1b-8c9d-0e1f2a3b4c5d"
ICN_B = "1098765432V654321"


def _event(at: datetime, request_id: str, user: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "service": "vets-api",
        "status": "info",
        "named_tags": {"request_id": request_id},
        "user_uuid": user,
        "version": "99297ed1ba086c1a22df6e8f5af55a005bb500f6",
    }
    base.update(fields)
    return base


def sample_events() -> list[dict[str, Any]]:
    """Five requests, eleven events (see the module docstring)."""
    r1, r2, r3, r4 = (f"{n}0000000-aaaa-4bbb-8ccc-00000000000{n}" for n in (1, 2, 3, 4))
    ok = T0 - timedelta(minutes=30)
    bad = T0 - timedelta(minutes=5)
    sign_in = T0 + timedelta(minutes=50)
    return [
        _event(
            ok,
            r1,
            UUID_A,
            message="vista GET /vista/516/rpc/ORWPS_ACTIVE success 200",
            upstream="vista",
            http={
                "method": "GET",
                "url_details": {"path": "/vista/516/rpc/ORWPS_ACTIVE"},
                "status_code": 200,
            },
            duration_ms=210,
            facility="516",
            payload={"icn": ICN_A},
            route="/my_health/v1/prescriptions",
        ),
        _event(
            ok + timedelta(milliseconds=300),
            r1,
            UUID_A,
            message="Completed GET /my_health/v1/prescriptions 200 OK",
            http={
                "method": "GET",
                "url_details": {"path": "/my_health/v1/prescriptions"},
                "status_code": 200,
            },
            duration_ms=320,
            facility="516",
        ),
        _event(
            T0 - timedelta(minutes=10),
            r4,
            UUID_B,
            message="Completed GET /my_health/v1/messaging/threads 200 OK",
            http={
                "method": "GET",
                "url_details": {"path": "/my_health/v1/messaging/threads"},
                "status_code": 200,
            },
            payload={"icn": ICN_B},
            facility="523",
        ),
        _event(
            bad,
            r2,
            UUID_A,
            status="error",
            message=f"VistA station 516 returned 503 Service Unavailable for ICN {ICN_A}",
            upstream="vista",
            error_code="503",
            upstream_outcome="failed",
            http={
                "method": "GET",
                "url_details": {"path": "/vista/516/rpc/ORWPS_ACTIVE"},
                "status_code": 503,
            },
            duration_ms=15000,
            facility="516",
            payload={"icn": ICN_A},
            route="/my_health/v1/prescriptions",
        ),
        _event(
            bad + timedelta(milliseconds=20),
            r2,
            UUID_A,
            status="error",
            message="Completed GET /my_health/v1/prescriptions 502 Bad Gateway",
            http={
                "method": "GET",
                "url_details": {"path": "/my_health/v1/prescriptions"},
                "status_code": 502,
            },
            duration_ms=15030,
            facility="516",
        ),
        _event(
            sign_in,
            r3,
            UUID_A,
            message="idme POST /oauth/token success 200",
            upstream="idme",
            http={"method": "POST", "url_details": {"path": "/oauth/token"}, "status_code": 200},
            route="/v0/sign_in/callback",
        ),
        _event(
            sign_in + timedelta(milliseconds=40),
            r3,
            UUID_A,
            message="Completed POST /v0/sign_in/callback 200 OK",
            http={
                "method": "POST",
                "url_details": {"path": "/v0/sign_in/callback"},
                "status_code": 200,
            },
        ),
    ]


@pytest.fixture
def var_dir(tmp_path: Path, settings: Any) -> Iterator[Path]:
    settings.VAR_DIR = tmp_path
    yield tmp_path
    forget_store(tmp_path / "logs.duckdb")


@pytest.fixture
def logs(var_dir: Path) -> list[dict[str, Any]]:
    events = sample_events()
    import_file(get_store(), write_lines(var_dir / "sample.jsonl", events))
    return events


@pytest.fixture
def make_ticket(
    make_person: Callable[[str], User], tier3_context: dict[str, Any]
) -> Callable[..., Ticket]:
    """``make_ticket(tier=3, affected_user_id=UUID_A)``: a ticket opened and escalated by sam."""

    def make(tier: int = 3, **changes: Any) -> Ticket:
        sam = make_person("sam")
        fields = {**tier3_context, "affected_user_id": UUID_A, "occurred_at": T0, **changes}
        ticket = ticket_services.ticket_create(actor=sam, fields=fields, tier=2)
        if tier == 3:
            ticket_services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
        ticket.refresh_from_db()
        return ticket

    return make


@pytest.fixture
def ticket(make_ticket: Callable[..., Ticket]) -> Ticket:
    return make_ticket()


WINDOW = {"from": "2025-01-06T08:00:00Z", "to": "2025-01-06T12:00:00Z"}
