"""A small hand-made log store for the escalation tests, every number known in advance.

Times: NOW is Thursday 9 January 2025 16:00 UTC; three earlier days hold background traffic.

- background: 20 users (``bg-00``...) each make one ok request and, every day, two of them hit
  signature ``sigbg`` around 15:50 at several facilities; today too (so it is never elevated).
- spike: today from 15:40, 12 users at facility 589 hit ``sigspike`` (VistA 503); on earlier days
  one user hit it around 15:45 (baseline 1).
- lonely: user ``u-lonely`` hits ``siglone`` four times today; nobody else ever does.
- deploy: version ``v1`` runs until 14:00 today, ``v2`` from then; from 14:05, 6 users hit
  ``signew`` on /my_health/v1/messaging/folders, among 40 users of that endpoint.
- snoop: user ``u-snoop`` reads medical records carrying 5 different patients' ICNs today.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backline.logs.duckdb_source import DuckDBSource
from backline.logs.ingest import import_file
from backline.logs.store import LogStore, forget_store, open_store
from backline.logs.tests.conftest import write_lines

NOW = datetime(2025, 1, 9, 16, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SPIKE_USERS = [f"spike-{i:02d}" for i in range(12)]
NEW_USERS = [f"new-{i:02d}" for i in range(6)]
ICNS = [f"10{i:08d}V{i:06d}" for i in range(1, 6)]


def _ev(at: datetime, user: str, message: str, **fields: Any) -> dict[str, Any]:
    version = "v2" if at >= NOW.replace(hour=14) else "v1"
    return {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "service": "vets-api",
        "status": fields.pop("status", "info"),
        "message": message,
        "user_uuid": user,
        "version": version,
        "facility": fields.pop("facility", "500"),
        "data_source_system": "VISTA",
        **fields,
    }


def _err(at: datetime, user: str, signature: str, message: str, **fields: Any) -> dict[str, Any]:
    return _ev(at, user, message, status="error", error_code="503", signature=signature, **fields)


def sample_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for days_back in range(0, 4):
        day = NOW - days_back * DAY
        # Traffic every 10 minutes all day, so every hour of the lookback holds data.
        for minute in range(0, 24 * 60, 10):
            at = day.replace(hour=0, minute=0) + timedelta(minutes=minute)
            user = f"bg-{minute // 10 % 20:02d}"
            events.append(
                _ev(at, user, "Completed GET /v0/user 200 OK", path="/v0/user", signature="sigok")
            )
        for i in range(2):
            at = day.replace(hour=15, minute=50 + i)
            events.append(
                _err(
                    at,
                    f"bg-{(days_back * 2 + i) % 20:02d}",
                    "sigbg",
                    "SM901 Secure Messaging service temporarily unavailable",
                    facility=str(600 + i),
                )
            )
        if days_back:
            events.append(
                _err(
                    day.replace(hour=15, minute=45),
                    "bg-19",
                    "sigspike",
                    "VistA station 589 returned 503 Service Unavailable",
                    facility="589",
                    upstream="vista",
                )
            )
    for i, user in enumerate(SPIKE_USERS):
        events.append(
            _err(
                NOW.replace(hour=15, minute=40) + timedelta(minutes=i),
                user,
                "sigspike",
                "VistA station 589 returned 503 Service Unavailable",
                facility="589",
                upstream="vista",
            )
        )
    for k in range(4):
        events.append(
            _err(
                NOW.replace(hour=15, minute=20 + k),
                "u-lonely",
                "siglone",
                "[SignIn] Login failed, code 103: ICN mismatch",
                path="/v0/sign_in/callback",
            )
        )
    folders = "/my_health/v1/messaging/folders"
    for i in range(40):
        events.append(
            _ev(
                NOW.replace(hour=14, minute=10) + timedelta(minutes=i),
                f"reader-{i:02d}",
                f"Completed GET {folders} 200 OK",
                path=folders,
                signature="sigfolders",
            )
        )
    for i, user in enumerate(NEW_USERS):
        events.append(
            _err(
                NOW.replace(hour=14, minute=5) + timedelta(minutes=3 * i),
                user,
                "signew",
                "NoMethodError: undefined method `downcase' for nil:NilClass",
                path=folders,
            )
        )
    for i, icn in enumerate(ICNS):
        events.append(
            _ev(
                NOW.replace(hour=15, minute=30 + i),
                "u-snoop",
                "Completed GET /my_health/v1/medical_records/labs_and_tests 200 OK",
                path="/my_health/v1/medical_records/labs_and_tests",
                payload={"icn": icn},
                signature="sigmr",
            )
        )
    events.sort(key=lambda e: e["timestamp"])
    return events


def load(store: LogStore, folder: Path) -> None:
    import_file(store, write_lines(folder / "sample.jsonl", sample_events()))


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBSource]:
    folder = tmp_path_factory.mktemp("escalation-store")
    path = folder / "logs.duckdb"
    store = open_store(path)
    load(store, folder)
    yield DuckDBSource(store)
    forget_store(path)


@pytest.fixture
def var_dir(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """``settings.VAR_DIR`` at a fresh folder holding the sample store."""
    settings.VAR_DIR = tmp_path
    load(open_store(tmp_path / "logs.duckdb"), tmp_path)
    yield tmp_path
    forget_store(tmp_path / "logs.duckdb")


@pytest.fixture
def make_ticket(
    make_person: Callable[[str], Any], tier3_context: dict[str, Any]
) -> Callable[..., Any]:
    """``make_ticket(affected_user_id=...)``: a Tier 3 ticket opened and escalated by sam."""
    from backline.tickets import services as ticket_services

    def make(**changes: Any) -> Any:
        sam = make_person("sam")
        fields = {
            **tier3_context,
            "occurred_at": NOW - timedelta(minutes=30),
            "occurred_until": NOW,
            **changes,
        }
        ticket = ticket_services.ticket_create(actor=sam, fields=fields, tier=2)
        ticket_services.ticket_escalate(ticket=ticket, actor=sam, to_tier=3)
        ticket.refresh_from_db()
        return ticket

    return make
