"""The fast signal: upstreams down or degraded in the last two minutes, against a hand-made store.

Three earlier days and today hold calls every 5 minutes from two VistA stations (515, 640) and
one Oracle Health site (757), durations 200-695 ms (VistA) and 400-895 ms (Oracle Health), one
call in a hundred failing. In the two minutes before NOW:

- station 515: four VistA calls fail with 503 for three users, and the four MHV API calls
  passing VistA's answer on fail too (RX99; the MHV API has no history, so a failure counts
  as a 5% event): one outage, one candidate;
- station 640: three calls succeed, one fails: background;
- site 757: five of six Oracle Health calls take 5 s for four users: degraded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backline.escalation import analysis
from backline.escalation.rules import Thresholds
from backline.logs.duckdb_source import DuckDBSource
from backline.logs.ingest import import_file
from backline.logs.store import forget_store, open_store
from backline.logs.tests.conftest import write_lines

NOW = datetime(2025, 1, 9, 16, 0, tzinfo=UTC)
T = Thresholds()
SITES = {"515": ("vista", 200), "640": ("vista", 200), "757": ("oracle_health", 400)}


def call(
    at: datetime, user: str, facility: str, upstream: str, ms: int, **extra: Any
) -> dict[str, Any]:
    failed = "error_code" in extra
    return {
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "service": "vets-api",
        "status": "error" if failed else "info",
        "message": extra.pop("message", f"{upstream} call {'failed' if failed else 'success'}"),
        "user_uuid": user,
        "facility": facility,
        "upstream": upstream,
        "duration_ms": ms,
        **extra,
    }


def history() -> list[dict[str, Any]]:
    events = []
    start = NOW - timedelta(days=3)
    for i in range(int((NOW - timedelta(minutes=10) - start) / timedelta(minutes=5))):
        at = start + i * timedelta(minutes=5)
        for facility, (upstream, base) in SITES.items():
            extra = {"error_code": "503", "signature": "sigbg"} if i % 100 == 7 else {}
            events.append(call(at, f"bg-{i % 40}", facility, upstream, base + i % 100 * 5, **extra))
    return events


def outage(minute: datetime) -> list[dict[str, Any]]:
    events = []
    vista_503 = {"error_code": "503", "signature": "sig503", "message": "VistA 503"}
    rx99 = {"error_code": "RX99", "signature": "sigrx99", "message": "RX99 upstream VistA"}
    for k, user in enumerate(["u1", "u2", "u3", "u1"]):
        at = minute + timedelta(seconds=10 + 20 * k)
        events.append(call(at, user, "515", "vista", 300, **vista_503))
        events.append(call(at + timedelta(seconds=1), user, "515", "mhv_api", 300, **rx99))
    for k in range(3):
        events.append(call(minute + timedelta(seconds=15 * k), f"ok{k}", "640", "vista", 250))
    events.append(call(minute + timedelta(seconds=50), "u9", "640", "vista", 300, **vista_503))
    for k, user in enumerate(["s1", "s2", "s3", "s4", "s1"]):
        events.append(
            call(minute + timedelta(seconds=5 + 20 * k), user, "757", "oracle_health", 5000)
        )
    events.append(call(minute + timedelta(seconds=90), "s5", "757", "oracle_health", 450))
    return events


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBSource]:
    folder = tmp_path_factory.mktemp("breaker-store")
    events = sorted(history() + outage(NOW - timedelta(minutes=2)), key=lambda e: e["timestamp"])
    store = open_store(folder / "logs.duckdb")
    import_file(store, write_lines(folder / "events.jsonl", events))
    yield DuckDBSource(store)
    forget_store(folder / "logs.duckdb")


def test_usual_shares_come_from_the_lookback(source: DuckDBSource) -> None:
    usual = analysis.upstream_usual(source, NOW.replace(minute=0), percentile=99)
    vista = usual["vista"]
    assert vista.calls > 1500 and 0.005 < vista.failed < 0.015
    assert vista.slow_ms is not None and 685 <= vista.slow_ms < 695
    assert vista.slow_or_failed is not None and vista.failed < vista.slow_or_failed < 0.03
    assert "mhv_api" not in usual  # four calls: nothing is known of it


def test_one_candidate_per_broken_facility_with_its_upstreams(source: DuckDBSource) -> None:
    found = analysis.breaker_candidates(source, analysis.DetectionState(), NOW, T, set())
    by_key = {c.key: c for c in found}
    assert set(by_key) == {"facility:515", "facility:757"}
    station = by_key["facility:515"]
    assert station.numbers | {} == {
        "upstream": "vista",
        "facility": "515",
        "state": "down",
        "calls": 4,
        "failed": 4,
        "slow_or_failed": 4,
        "users": 3,
    }
    assert station.signature == "sig503" and station.kind == "upstream"
    assert station.title == "VistA for facility 515 patients down: 4 of 4 calls failed in 2 min"
    upstreams = [r.numbers["upstream"] for r in station.recommendation.fired()]
    assert upstreams == ["vista", "mhv_api"]  # the MHV API failing after VistA: same problem
    site = by_key["facility:757"]
    assert site.numbers["state"] == "degraded" and site.numbers["slow_or_failed"] == 5
    assert site.recommendation.target == "monitoring" and site.signature == ""


def test_known_keys_are_skipped_and_a_quiet_moment_finds_nothing(source: DuckDBSource) -> None:
    state = analysis.DetectionState()
    skip = {"facility:515"}
    assert [c.key for c in analysis.breaker_candidates(source, state, NOW, T, skip)] == [
        "facility:757"
    ]
    # A site already proposed is not mistaken, on its own, for the whole upstream broken.
    known = analysis.breaker_candidates(source, state, NOW, T, {"facility:757"})
    assert [c.key for c in known] == ["facility:515"]
    earlier = NOW - timedelta(minutes=3)
    assert analysis.breaker_candidates(source, state, earlier, T, set()) == []


def test_the_outage_signature_is_not_proposed_twice(source: DuckDBSource) -> None:
    found = analysis.detect_candidates(source, NOW, Thresholds(min_users=3))
    keys = [c.key for c in found]
    assert "facility:515" in keys and "sig:sig503" not in keys


def test_failures_everywhere_are_one_upstream_candidate(tmp_path: Path) -> None:
    events = history()
    minute = NOW - timedelta(minutes=2)
    for k in range(5):  # one failed call at each of five stations: no station trips alone
        events.append(call(minute + timedelta(seconds=10 * k), f"w{k}", f"60{k}", "vista", 300,
                           error_code="503", signature="sig503"))  # fmt: skip
    events.sort(key=lambda e: e["timestamp"])
    store = open_store(tmp_path / "logs.duckdb")
    try:
        import_file(store, write_lines(tmp_path / "events.jsonl", events))
        source = DuckDBSource(store)
        found = analysis.breaker_candidates(source, analysis.DetectionState(), NOW, T, set())
        assert [(c.key, c.numbers["failed"], c.numbers["users"]) for c in found] == [
            ("upstream:vista", 5, 5)
        ]
        assert found[0].title.startswith("VistA down: 5 of 5 calls failed")
    finally:
        forget_store(tmp_path / "logs.duckdb")


@pytest.mark.django_db
def test_detection_pages_for_a_station_down_and_proposes_the_slow_site(
    tmp_path: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    client: Any,
    mona: Any,
    make_ticket: Any,
) -> None:
    from backline.accounts.roles import Role
    from backline.escalation import services
    from backline.escalation.models import Incident
    from backline.notify.models import Channel, ChannelKind, Delivery

    settings.VAR_DIR = tmp_path
    events = sorted(history() + outage(NOW - timedelta(minutes=2)), key=lambda e: e["timestamp"])
    import_file(open_store(tmp_path / "logs.duckdb"), write_lines(tmp_path / "e.jsonl", events))
    monkeypatch.setattr(services, "_out_of_hours", lambda now: True)
    monkeypatch.setattr(services, "_DETECTION_STATE", analysis.DetectionState())
    Channel.objects.create(
        kind=ChannelKind.PAGERDUTY,
        name="Monitoring",
        role=Role.MONITORING,
        routing_key="R0123456789abcdefghijABCDEFGHIJ0",
    )
    for role in (Role.TIER3, Role.MONITORING):
        Channel.objects.create(
            kind=ChannelKind.SLACK,
            name=f"#{role}",
            role=role,
            webhook_url=f"http://127.0.0.1:9/services/T/{role}/X",
        )
    at_515 = make_ticket(affected_user_id="u2")
    at_640 = make_ticket(affected_user_id="u9")  # the same 503 signature, another station
    try:
        created = services.detect(now=NOW)
        assert {i.detection_key for i in created} == {"facility:515", "facility:757"}
        down = Incident.objects.get(detection_key="facility:515")
        assert (down.severity, down.paged, down.signatures) == ("critical", True, ["sig503"])
        assert down.title.startswith("VistA for facility 515 patients down")
        page = Delivery.objects.get(pk=down.notified_delivery_ids[0])
        assert "VistA for facility 515 patients down" in str(page.payload)
        posts = Delivery.objects.filter(event="incident_proposed", channel=ChannelKind.SLACK)
        assert posts.count() == 4  # each proposal to the Tier 3 and the Monitoring channel
        to_tier3 = posts.get(pk__in=down.notified_delivery_ids, target__contains="/tier3/")
        assert "proposed by detection: VistA for facility 515 patients down" in str(
            to_tier3.payload
        )
        linked = list(down.links.values_list("ticket_id", "reason"))
        assert linked == [(at_515.pk, "affected by the same upstream problem")]
        assert at_640.pk not in [pk for pk, _ in linked]
        slow = Incident.objects.get(detection_key="facility:757")
        assert (slow.severity, slow.paged) == ("high", False)
        client.force_login(mona)
        page_html = client.get(f"/escalation/incidents/{down.pk}/").content.decode()
        assert "Upstream down or degraded now" in page_html and "4 of 4 calls failed" in page_html
        assert "<dt>Detected</dt><dd>Thu Jan 09, 2025 11:00 EST</dd>" in page_html
        listed = client.get("/escalation/incidents/").content.decode()
        row = listed[listed.index(down.number) :]
        assert "<td>Critical</td><td>Proposed by detection</td>" in row[: row.index("</tr>")]
        assert "Thu Jan 09 11:00" in row[: row.index("</tr>")]
        assert 'href="/logs/?q=%40upstream%3A%22vista%22+%40facility%3A%22515%22+%40error_code' in (
            page_html
        )
        # Fifteen seconds later nothing new: the keys are taken, and so is the 503 signature.
        assert services.detect(now=NOW + timedelta(seconds=15)) == []
    finally:
        forget_store(tmp_path / "logs.duckdb")


def test_a_down_facilitys_other_errors_are_not_proposed_apart(tmp_path: Path) -> None:
    """Twelve patients of station 515 fail: VistA's 503 and the MHV API's RX99 after it. One
    incident for the station, not one more per signature, now and while it stays active."""
    events = history()
    minute = NOW - timedelta(minutes=4)
    for k in range(12):
        at = minute + timedelta(seconds=20 * k)
        user = f"p{k}"
        events.append(call(at, user, "515", "vista", 300, error_code="503", signature="sig503"))
        events.append(call(at, user, "515", "mhv_api", 300, error_code="RX99", signature="sigrx99"))
    events.sort(key=lambda e: e["timestamp"])
    store = open_store(tmp_path / "logs.duckdb")
    try:
        import_file(store, write_lines(tmp_path / "events.jsonl", events))
        source = DuckDBSource(store)
        found = analysis.detect_candidates(source, NOW, T)
        assert [c.key for c in found] == ["facility:515"]
        later = analysis.detect_candidates(
            source, NOW + timedelta(minutes=1), T, skip_keys={"facility:515"}
        )
        assert later == []
    finally:
        forget_store(tmp_path / "logs.duckdb")
