"""The simulator against its promises: determinism, identifier formats, schema, scenarios, truth."""

from __future__ import annotations

import io
import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backline.logs.schema import SOURCE_PATHS
from backline.logs.simulate import (
    SCENARIO_NAMES,
    ScenarioSpec,
    ScenarioTruth,
    SimulationConfig,
    all_scenarios,
    iter_events,
    iter_lines,
    manifest,
    parse_scenario,
    ticket_seeds,
    traffic_factor,
    write_jsonl,
)
from backline.logs.simulate.plan import EASTERN, build_plan
from backline.logs.simulate.population import ORACLE_HEALTH_SITES

ICN_RE = re.compile(r"^\d{10}V\d{6}$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

CONFIG = SimulationConfig(
    seed=7, days=1.25, users=300, events_per_second=0.5, scenarios=all_scenarios()
)


def _get(event: dict[str, Any], path: str) -> Any:
    """A dotted attribute path, read through nested objects as the store's intake does."""
    node: Any = event
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _ts(event: dict[str, Any]) -> datetime:
    stamp: datetime = event["_ts"]
    return stamp


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return list(iter_lines(CONFIG))


@pytest.fixture(scope="module")
def events(lines: list[str]) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in lines]
    for event in parsed:
        # Parsed once here; the tests compare instants many times.
        event["_ts"] = datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    return parsed


@pytest.fixture(scope="module")
def truths() -> dict[str, ScenarioTruth]:
    return {t.name: t for t in manifest(CONFIG)}


@pytest.fixture(scope="module")
def plan_patients() -> dict[str, Any]:
    return {p.user_uuid: p for p in build_plan(CONFIG).patients}


def _in(truth: ScenarioTruth, event: dict[str, Any]) -> bool:
    return truth.start <= _ts(event) < truth.end + timedelta(minutes=1)


def _calls(events: list[dict[str, Any]], upstream: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("upstream") == upstream]


# -- determinism and output ------------------------------------------------------------------


def _small(seed: int) -> SimulationConfig:
    return SimulationConfig(
        seed=seed, days=0.25, users=60, events_per_second=1.0, scenarios=all_scenarios()
    )


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    first, second, other = io.BytesIO(), io.BytesIO(), io.BytesIO()
    write_jsonl(_small(3), first)
    write_jsonl(_small(3), second)
    write_jsonl(_small(4), other)
    assert first.getvalue() == second.getvalue()
    assert len(first.getvalue()) > 10_000
    assert first.getvalue() != other.getvalue()
    assert manifest(_small(3)) == manifest(_small(3))
    assert ticket_seeds(_small(3)) == ticket_seeds(_small(3))
    assert manifest(_small(3)) != manifest(_small(4))


def test_write_jsonl_to_a_path_and_to_a_text_file_counts_what_it_wrote(tmp_path: Path) -> None:
    config = _small(5)
    target = tmp_path / "events.jsonl"
    summary = write_jsonl(config, target)
    data = target.read_bytes()
    assert summary.bytes == len(data)
    assert summary.events == data.count(b"\n") == len(data.splitlines())
    text = io.StringIO()
    write_jsonl(config, text)
    assert text.getvalue().encode() == data
    assert [json.loads(line) for line in data.splitlines()[:50]] == list(iter_events(config))[:50]


def test_every_line_is_json_in_time_order_with_the_schema_attributes(
    lines: list[str], events: list[dict[str, Any]]
) -> None:
    assert len(events) == len(lines)  # each line parsed as one JSON object (fixture)
    assert list(iter_events(_small(1)))  # the dict interface yields the same objects
    previous = ""
    kinds: Counter[str] = Counter()
    for line, event in zip(lines, events, strict=True):
        for key in ("timestamp", "service", "host", "status", "message", "version"):
            assert event.get(key), (key, line)
        assert event["timestamp"] >= previous
        previous = event["timestamp"]
        assert event["status"] in ("info", "warn", "error")
        if event["name"] == "Deploy":
            kinds["deploy"] += 1
            continue
        kind = "call" if "upstream" in event else "request"
        kinds[kind] += 1
        for column in ("request_id", "trace_id", "http_method", "path", "status_code", "user_id"):
            value = next(
                (_get(event, p) for p in SOURCE_PATHS[column] if _get(event, p) is not None), None
            )
            assert value is not None, (column, line)
        assert isinstance(event["duration_ms"], int) and event["duration_ms"] > 0
        assert event["named_tags"]["ref"] == event["version"]
        assert event["facility"].isdigit() and event["data_source_system"] in (
            "VISTA",
            "ORACLE_HEALTH",
        )
        if kind == "call":
            assert event["upstream_outcome"] in ("success", "failed")
            assert (event["upstream_outcome"] == "failed") == ("error_code" in event)
        if event["http"]["status_code"] >= 400:
            assert event["error_code"] and event["status"] in ("warn", "error")
    assert kinds["call"] > kinds["request"] > 10_000
    assert kinds["deploy"] >= 1


# -- population --------------------------------------------------------------------------------


def test_patients_have_real_identifier_formats_and_facilities(
    plan_patients: dict[str, Any],
) -> None:
    patients = list(plan_patients.values())
    assert len(patients) == CONFIG.users
    for p in patients:
        assert ICN_RE.match(p.icn)
        assert UUID_RE.match(p.user_uuid)
        assert re.fullmatch(r"\d{10}", p.edipi)
        assert p.mhv_correlation_id.isdigit()
        assert 358 <= int(p.facility) <= 758
        assert (p.data_source_system == "ORACLE_HEALTH") == (p.facility in ORACLE_HEALTH_SITES)
        assert p.credential in ("idme", "logingov")
        assert (p.mhv_account_state == "MULTIPLE") == bool(p.other_mhv_correlation_id)
    assert {p.mhv_account_state for p in patients} == {"OK", "NONE", "MULTIPLE", "DEACTIVATED"}
    states = Counter(p.mhv_account_state for p in patients)
    assert states["OK"] > 0.8 * len(patients)
    assert len({p.icn for p in patients}) == len({p.user_uuid for p in patients}) == len(patients)


def test_events_carry_the_patients_facility_and_oracle_health_sites_say_so(
    events: list[dict[str, Any]], plan_patients: dict[str, Any]
) -> None:
    truth = manifest(CONFIG)[-1]  # the security session reads other patients' records
    for e in events:
        if "user_uuid" not in e:
            continue
        assert (e["data_source_system"] == "ORACLE_HEALTH") == (
            e["facility"] in ORACLE_HEALTH_SITES
        )
        if e["named_tags"]["remote_ip"] != truth.details["remote_ip"]:
            assert e["facility"] == plan_patients[e["user_uuid"]].facility


def test_logs_leak_identifiers_for_masking_to_find(events: list[dict[str, Any]]) -> None:
    messages = [e["message"] for e in events if e.get("error_code")]
    assert any(re.search(r"\b\d{10}V\d{6}\b", m) for m in messages)
    assert any(re.search(r"[\w.]+@example\.com", m) for m in messages)


# -- traffic -----------------------------------------------------------------------------------


def test_daytime_is_busier_than_night_and_weekends_are_quieter(
    events: list[dict[str, Any]],
) -> None:
    by_hour: Counter[int] = Counter(_ts(e).astimezone(EASTERN).hour for e in events)
    day = sum(by_hour[h] for h in range(10, 16)) / 6
    night = sum(by_hour[h] for h in range(1, 5)) / 4
    assert day > 4 * night
    monday_noon = datetime(2025, 1, 6, 12, tzinfo=EASTERN)
    assert traffic_factor(monday_noon) > 1.3 > traffic_factor(monday_noon + timedelta(days=5))
    assert traffic_factor(monday_noon + timedelta(hours=15)) < 0.4


def test_rate_is_near_the_requested_mean() -> None:
    config = SimulationConfig(seed=2, days=7, users=100, events_per_second=0.1)
    count = sum(1 for _ in iter_lines(config))
    assert 0.85 * 0.1 * 7 * 86_400 < count < 1.15 * 0.1 * 7 * 86_400


def test_background_error_rate_per_upstream_is_realistic(
    events: list[dict[str, Any]], truths: dict[str, ScenarioTruth]
) -> None:
    in_scenario = {u for t in truths.values() for u in t.affected_user_uuids}
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)
    for e in events:
        if "upstream" in e and e["user_uuid"] not in in_scenario:
            outcomes[e["upstream"]][e["upstream_outcome"]] += 1
    assert set(outcomes) == {"mhv_api", "vista", "oracle_health", "mpi", "idme", "logingov"}
    for upstream, counts in outcomes.items():
        rate = counts["failed"] / (counts["failed"] + counts["success"])
        assert 0.001 < rate < 0.05, (upstream, rate)


def test_deploys_change_the_version_and_every_event_carries_the_current_one(
    events: list[dict[str, Any]],
) -> None:
    current, previous, since = events[0]["version"], None, events[0]["_ts"]
    deploys = 0
    for e in events:
        if e["name"] == "Deploy":
            deploys += 1
            previous, current, since = current, e["version"], _ts(e)
            assert f"previous {previous}" in e["message"]
        else:
            # Requests already in flight at the deploy finish on the old version.
            in_flight = _ts(e) - since < timedelta(seconds=60)
            assert e["version"] == current or (in_flight and e["version"] == previous)
    assert deploys >= 2


# -- scenarios -----------------------------------------------------------------------------------


def test_signin_icn_mismatch_hits_only_its_user_and_blocks_everything_else(
    events: list[dict[str, Any]], truths: dict[str, ScenarioTruth]
) -> None:
    truth = truths["signin_icn_mismatch"]
    (user,) = truth.affected_user_uuids
    hits = [e for e in events if e.get("error_code") == "103"]
    assert len(hits) >= 8  # at least four attempts, each a call event and a request event
    assert all(e["user_uuid"] == user and _in(truth, e) for e in hits)
    assert all("ICN mismatch" in e["message"] for e in hits)
    in_window = [
        e for e in events if e.get("user_uuid") == user and truth.start <= _ts(e) < truth.end
    ]
    assert {e.get("route", e["http"]["url_details"]["path"]) for e in in_window} == {
        "/v0/sign_in/callback"
    }
    assert truth.escalation == "tier3" and truth.error_code == "103"


def test_pharmacy_lookup_uses_the_wrong_mhv_id_for_one_user_only(
    events: list[dict[str, Any]], truths: dict[str, ScenarioTruth], plan_patients: dict[str, Any]
) -> None:
    truth = truths["pharmacy_wrong_mhv_id"]
    (user,) = truth.affected_user_uuids
    patient = plan_patients[user]
    assert patient.mhv_account_state == "MULTIPLE"
    hits = [e for e in events if truth.signature in e["message"]]
    assert len(hits) >= 6
    for e in hits:
        assert e["user_uuid"] == user and _in(truth, e) and e["error_code"] == "RX138"
        assert e.get("route", e["http"]["url_details"]["path"]) == "/my_health/v1/prescriptions"
    calls = [e for e in hits if "upstream" in e]
    assert {e["payload"]["mhv_correlation_id"] for e in calls} == {truth.details["mhv_id_used"]}
    assert truth.details["mhv_id_used"] != patient.mhv_correlation_id
    # The record system answered: the EHR call right before each failure succeeded.
    ehr_ok = [
        e
        for e in events
        if e.get("user_uuid") == user
        and e.get("upstream") in ("vista", "oracle_health")
        and e["upstream_outcome"] == "success"
        and _in(truth, e)
    ]
    assert len(ehr_ok) >= len(calls)
    # The user's profile shows the right id: the mismatch is there to be found.
    profile = [
        e
        for e in events
        if e.get("user_uuid") == user and e["message"].startswith("Completed GET /v0/user")
    ]
    assert profile and profile[0]["payload"]["mhv_correlation_id"] == patient.mhv_correlation_id


def test_vista_outage_hits_every_patient_of_the_station_and_no_other_station(
    events: list[dict[str, Any]], truths: dict[str, ScenarioTruth], plan_patients: dict[str, Any]
) -> None:
    truth = truths["vista_station_outage"]
    station = truth.target
    cohort = {u for u, p in plan_patients.items() if p.facility == station}
    assert set(truth.affected_user_uuids) == cohort and len(cohort) >= 2
    window = [e for e in _calls(events, "vista") if truth.start <= _ts(e) < truth.end]
    station_calls = [e for e in window if e["facility"] == station]
    assert station_calls and all(e["upstream_outcome"] == "failed" for e in station_calls)
    assert {e["error_code"] for e in station_calls} <= {"503", "504"}
    assert {e["user_uuid"] for e in station_calls} == cohort
    assert any(truth.signature in e["message"] for e in station_calls)
    others = [e for e in window if e["facility"] != station]
    assert sum(e["upstream_outcome"] == "failed" for e in others) < 0.05 * len(others)
    after = [e for e in _calls(events, "vista") if e["facility"] == station and _ts(e) >= truth.end]
    assert sum(e["upstream_outcome"] == "success" for e in after) > 0.9 * len(after)
    # Through the MHV API the portal reports RX99 for prescriptions.
    rx = [
        e
        for e in events
        if e.get("error_code") == "RX99" and "VistA" in e["message"] and _in(truth, e)
    ]
    assert rx and sum(e["user_uuid"] in cohort for e in rx) > 0.8 * len(rx)
    assert truth.escalation == "monitoring"


def test_oracle_health_latency_slows_the_site_cohort_only(
    events: list[dict[str, Any]], truths: dict[str, ScenarioTruth]
) -> None:
    truth = truths["oracle_health_latency"]
    cohort = set(truth.affected_user_uuids)
    calls = _calls(events, "oracle_health")
    during = [e for e in calls if e["user_uuid"] in cohort and truth.start <= _ts(e) < truth.end]
    before = [e for e in calls if e["user_uuid"] in cohort and _ts(e) < truth.start]
    others = [
        e for e in calls if e["user_uuid"] not in cohort and truth.start <= _ts(e) < truth.end
    ]
    assert {e["user_uuid"] for e in during} == cohort
    ok_during = [e["duration_ms"] for e in during if e["upstream_outcome"] == "success"]
    assert statistics.median(ok_during) > 4 * statistics.median(e["duration_ms"] for e in before)
    assert any(e.get("error_code") == "504" for e in during)
    assert statistics.median(e["duration_ms"] for e in others) < 2000
    assert {e["facility"] for e in during} == set(truth.details["sites"])
    assert truth.escalation == "monitoring"


def test_deploy_error_starts_with_the_new_version_on_one_endpoint(
    events: list[dict[str, Any]], truths: dict[str, ScenarioTruth]
) -> None:
    truth = truths["deploy_new_error"]
    sha = truth.details["version"]
    deploy = [e for e in events if e["name"] == "Deploy" and e["version"] == sha]
    assert len(deploy) == 1 and _ts(deploy[0]) == truth.start
    hits = [e for e in events if e.get("error_code") == "500"]
    assert {e["user_uuid"] for e in hits} == set(truth.affected_user_uuids)
    for e in hits:
        assert e["version"] == sha and _in(truth, e) and truth.signature == e["message"]
        assert e["http"]["url_details"]["path"] == truth.target
        assert "upstream" not in e  # raised by the portal, not an upstream
    assert len(truth.affected_user_uuids) >= 5
    # Modest error rate on the endpoint: most of its requests still succeed.
    on_endpoint = [
        e
        for e in events
        if "upstream" not in e
        and e.get("http", {}).get("url_details", {}).get("path") == truth.target
        and truth.start <= _ts(e) < truth.end
    ]
    assert 0 < len(hits) < 0.6 * len(on_endpoint)
    assert truth.escalation == "investigator"


def test_security_session_reads_other_patients_records(
    events: list[dict[str, Any]], truths: dict[str, ScenarioTruth], plan_patients: dict[str, Any]
) -> None:
    truth = truths["security_session_reads_many"]
    (actor,) = truth.affected_user_uuids
    ip, prefix = truth.details["remote_ip"], truth.details["request_id_prefix"]
    session = [e for e in events if e.get("named_tags", {}).get("remote_ip") == ip]
    assert session and all(e["user_uuid"] == actor and _in(truth, e) for e in session)
    assert all(e["named_tags"]["request_id"].startswith(prefix) for e in session)
    read_icns = {e["payload"]["icn"] for e in session if "icn" in e["payload"]}
    victims = {plan_patients[u].icn for u in truth.details["patients_read"]}
    assert read_icns == victims and len(victims) >= 4
    assert plan_patients[actor].icn not in read_icns
    # Outside that session nobody ever reads someone else's records.
    for e in events:
        if e.get("named_tags", {}).get("remote_ip") != ip and "icn" in e.get("payload", {}):
            assert e["payload"]["icn"] == plan_patients[e["user_uuid"]].icn
    assert truth.escalation == "monitoring"


def test_user_scenarios_do_not_overlap_cohorts(truths: dict[str, ScenarioTruth]) -> None:
    seen: set[str] = set()
    for truth in truths.values():
        users = set(truth.affected_user_uuids)
        assert not users & seen, truth.name
        seen |= users


# -- manifest and tickets ---------------------------------------------------------------------


def test_manifest_is_consistent_with_the_config(truths: dict[str, ScenarioTruth]) -> None:
    assert list(truths) == list(SCENARIO_NAMES)
    for t in truths.values():
        assert CONFIG.start <= t.start < t.end <= CONFIG.end
        assert t.affected_user_uuids and all(UUID_RE.match(u) for u in t.affected_user_uuids)
        assert t.escalation in ("tier3", "monitoring", "investigator")
        assert t.root_cause and t.rationale and t.signature
    assert {t.name: t.escalation for t in truths.values()} == {
        "signin_icn_mismatch": "tier3",
        "pharmacy_wrong_mhv_id": "tier3",
        "vista_station_outage": "monitoring",
        "oracle_health_latency": "monitoring",
        "deploy_new_error": "investigator",
        "security_session_reads_many": "monitoring",
    }


def test_ticket_seeds_carry_the_escalation_template(truths: dict[str, ScenarioTruth]) -> None:
    seeds = ticket_seeds(CONFIG)
    assert [s["scenario"] for s in seeds] == list(SCENARIO_NAMES)
    prefixes = {"medications": "RX - ", "secure_messaging": "SM - ", "medical_records": "MR - "}
    for seed in seeds:
        truth = truths[seed["scenario"]]
        if seed["area"] in prefixes:
            assert seed["title"].startswith(prefixes[seed["area"]])
        assert seed["affected_user_id"] in truth.affected_user_uuids
        assert seed["occurred_at"] == truth.start.isoformat().replace("+00:00", "Z")
        assert seed["reported_at"] > seed["occurred_at"]
        assert re.fullmatch(r"HRC-HD-Y4-\d{10}", seed["external_refs"][0])
        assert seed["credential"] in ("idme", "logingov")
        assert seed["url"].startswith("https://www.va.gov/")
        assert seed["troubleshooting_steps"] and seed["steps_to_reproduce"]
        assert seed["priority"] in ("critical", "high", "medium", "low")
        assert seed["entry_criterion"]
    oracle = next(s for s in seeds if s["scenario"] == "oracle_health_latency")
    assert oracle["oracle_health_site"] is True and oracle["suspected_upstream"] == "oracle_health"


# -- scenario parameters ------------------------------------------------------------------------


def test_explicit_scenario_parameters_are_honoured() -> None:
    start = datetime(2025, 1, 7, 15, 0, tzinfo=UTC)
    base = build_plan(_small(9))
    station = next(p.facility for p in base.patients if not p.oracle_health)
    user = base.patients[10].user_uuid
    config = SimulationConfig(
        seed=9,
        start=datetime(2025, 1, 7, 12, tzinfo=UTC),
        days=0.5,
        users=60,
        events_per_second=1.0,
        scenarios=[
            ScenarioSpec(
                "vista_station_outage", start=start, duration=timedelta(hours=1), target=station
            ),
            ScenarioSpec("signin_icn_mismatch", target=user, intensity=2.0),
            ScenarioSpec("deploy_new_error", target="/my_health/v1/messaging/threads"),
        ],
    )
    outage, signin, deploy = manifest(config)
    assert outage.start == start and outage.end == start + timedelta(hours=1)
    assert outage.target == station
    assert signin.affected_user_uuids == (user,)
    attempts = [
        line for line in iter_lines(config) if '"error_code":"103"' in line and '"upstream"' in line
    ]
    assert len(attempts) >= 12  # intensity 2 doubles the retries
    assert deploy.target == "/my_health/v1/messaging/threads"


def test_bad_scenario_parameters_are_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        ScenarioSpec("meteor_strike")
    with pytest.raises(ValueError, match="timezone-aware"):
        ScenarioSpec("vista_station_outage", start=datetime(2025, 1, 7, 12))
    with pytest.raises(ValueError, match="not a VistA station"):
        manifest(
            SimulationConfig(
                seed=1,
                days=0.5,
                users=60,
                scenarios=[ScenarioSpec("vista_station_outage", target="648")],
            )
        )
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulationConfig(start=datetime(2025, 1, 6))


def test_parse_scenario_reads_the_cli_syntax() -> None:
    spec = parse_scenario(
        "vista_station_outage:start=2025-01-07T14:00-05:00,duration=90m,intensity=2,target=589"
    )
    assert spec == ScenarioSpec(
        "vista_station_outage",
        start=datetime(2025, 1, 7, 19, 0, tzinfo=UTC),
        duration=timedelta(minutes=90),
        intensity=2.0,
        target="589",
    )
    assert parse_scenario("deploy_new_error") == ScenarioSpec("deploy_new_error")
    assert parse_scenario("oracle_health_latency:duration=1.5d").duration == timedelta(days=1.5)
    for bad, message in [
        ("vista_station_outage:start=2025-01-07T14:00", "UTC offset"),
        ("vista_station_outage:duration=2 hours", "duration"),
        ("vista_station_outage:color=red", "unknown scenario option"),
        ("vista_station_outage:target", "key=value"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_scenario(bad)
