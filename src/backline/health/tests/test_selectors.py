"""The dashboards' numbers over a simulated store: the outage and the latency regression show up
in their windows and nowhere else; the Oracle Health cohort is flagged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backline.health import selectors
from backline.health.rules import State
from backline.health.tests.conftest import LATENCY_START, OUTAGE_START, THIS_WEEK, World
from backline.logs.duckdb_source import DuckDBSource

DURING_OUTAGE = OUTAGE_START + timedelta(minutes=30)
DURING_LATENCY_ONLY = LATENCY_START + timedelta(minutes=45)
BEFORE = THIS_WEEK + timedelta(minutes=50)
AFTER = OUTAGE_START + timedelta(hours=2, minutes=30)


def test_outage_station_is_down_during_the_outage_and_normal_outside(
    source: DuckDBSource, world: World
) -> None:
    station = world.outage.target
    query = selectors.facility_query(station, "vista")
    during = selectors.assess(source, query, f"vista at station {station}", DURING_OUTAGE)
    assert during.state is State.DOWN
    assert during.text.startswith(f"down: 100% of vista at station {station} calls failed")
    assert "circuit breaker would trip at 80% over 2 minutes" in during.text
    assert during.breaker_tripped
    for moment in (BEFORE, DURING_LATENCY_ONLY, AFTER):
        assert selectors.assess(source, query, "vista", moment).state is State.NORMAL, moment


def test_vista_upstream_is_degraded_during_the_outage_naming_the_station(
    source: DuckDBSource, world: World
) -> None:
    window = selectors.WINDOWS["4h"]
    during = selectors.upstream_dashboard(source, "vista", window=window, now=DURING_OUTAGE)
    assert during.decision.state is State.DEGRADED
    assert f"station {world.outage.target}" in during.decision.reason
    worst_part = during.parts[0]
    assert worst_part.key == world.outage.target
    assert worst_part.decision.state is State.DOWN
    assert all(p.decision.state is not State.DOWN for p in during.parts[1:])
    for moment in (BEFORE, AFTER):
        later = selectors.upstream_dashboard(source, "vista", window=window, now=moment)
        assert later.decision.state is State.NORMAL, later.decision.text


def test_oracle_health_is_degraded_by_latency_during_the_regression(source: DuckDBSource) -> None:
    query = selectors.upstream_query("oracle_health")
    during = selectors.assess(source, query, "oracle_health", DURING_LATENCY_ONLY)
    assert during.state is State.DEGRADED
    assert during.rule in ("latency_vs_last_week", "error_rate_vs_last_week")
    assert selectors.assess(source, query, "oracle_health", BEFORE).state is State.NORMAL
    assert selectors.assess(source, query, "oracle_health", AFTER).state is State.NORMAL


def test_dashboard_series_line_up_with_last_week(source: DuckDBSource, world: World) -> None:
    window = selectors.WINDOWS["4h"]
    dashboard = selectors.facility_dashboard(
        source, world.outage.target, window=window, now=DURING_OUTAGE, upstream="vista"
    )
    assert dashboard.decision.state is State.DOWN
    assert next(p.key for p in dashboard.parts) == "vista"
    assert len(dashboard.points) == len(dashboard.last_week) == 48
    assert dashboard.end == DURING_OUTAGE  # already on a 5-minute boundary
    for now, then in zip(dashboard.points, dashboard.last_week, strict=True):
        assert now.start - then.start == timedelta(days=7)
    in_outage = [p for p in dashboard.points if p.start >= OUTAGE_START]
    before = [p for p in dashboard.points if p.start < OUTAGE_START and p.calls]
    assert in_outage and all(p.error_rate == 1.0 for p in in_outage if p.calls)
    assert before and max(p.error_rate or 0 for p in before) < 0.5
    # Last week had no outage at that station.
    assert max(p.error_rate or 0 for p in dashboard.last_week) < 0.5
    assert all(p.p95_ms is not None for p in dashboard.points if p.calls)


def test_overview_lists_upstreams_and_puts_the_outage_station_first(
    source: DuckDBSource, world: World
) -> None:
    result = selectors.overview(source, window=selectors.WINDOWS["1h"], now=DURING_OUTAGE)
    names = [row.name for row in result.upstreams]
    assert names[:4] == ["mhv_api", "vista", "oracle_health", "mpi"]
    assert set(names[4:]) == {"idme", "logingov"}  # sign-in providers had calls
    states = {row.name: row.decision.state for row in result.upstreams}
    assert states["vista"] is State.DEGRADED
    assert states["mpi"] is State.NORMAL
    first = result.worst_facilities[0]
    assert first.station == world.outage.target
    assert first.state is State.DOWN
    assert first.reasons[0].startswith("down: ")
    assert all(len(row.error_rates) == 60 for row in result.upstreams)
    quiet = selectors.overview(source, window=selectors.WINDOWS["1h"], now=BEFORE)
    assert all(row.decision.state is State.NORMAL for row in quiet.upstreams)
    assert all(f.state is State.NORMAL for f in quiet.worst_facilities)


def test_oracle_health_cohort_p95_is_flagged(source: DuckDBSource, world: World) -> None:
    result = selectors.cohort_comparison(
        source,
        field=selectors.cohort_field("data_source"),
        query="",
        start=LATENCY_START,
        end=OUTAGE_START,
    )
    assert result.query == selectors.REQUESTS_QUERY
    rows = {row.value: row for row in result.rows}
    oracle = rows["ORACLE_HEALTH"]
    assert oracle.label == "Oracle Health"
    assert oracle.p95_ms is not None and result.overall.p95_ms is not None
    assert oracle.p95_ms >= 2 * result.overall.p95_ms
    assert any(flag.startswith("p95 ") and "x overall" in flag for flag in oracle.flags)
    assert not rows["VISTA"].flags
    assert result.rows[0] is oracle  # flagged first
    assert result.overall.events == sum(row.events for row in result.rows)
    # Outside the regression, nothing stands out.
    calm = selectors.cohort_comparison(
        source,
        field=selectors.cohort_field("data_source"),
        query="",
        start=THIS_WEEK,
        end=LATENCY_START,
    )
    assert not calm.flagged


def test_facility_cohorts_flag_the_slow_site_and_the_failing_station(
    source: DuckDBSource, world: World
) -> None:
    result = selectors.cohort_comparison(
        source,
        field=selectors.cohort_field("facility"),
        query="",
        start=OUTAGE_START,
        end=OUTAGE_START + timedelta(hours=1),
    )
    flagged = {row.value for row in result.flagged}
    assert world.outage.target in flagged
    assert set(world.latency.details["sites"]) <= flagged


def test_browser_and_credential_cohorts(source: DuckDBSource) -> None:
    browsers = selectors.cohort_comparison(
        source,
        field=selectors.cohort_field("browser"),
        query="",
        start=THIS_WEEK,
        end=LATENCY_START,
    )
    labels = {row.label for row in browsers.rows}
    assert {"Chrome", "Safari", "Edge", "Firefox"} <= labels
    # The families partition the events: no request is counted twice or lost.
    assert sum(row.events for row in browsers.rows) == browsers.overall.events
    credentials = selectors.cohort_comparison(
        source,
        field=selectors.cohort_field("credential"),
        query="",
        start=THIS_WEEK,
        end=LATENCY_START,
    )
    assert {row.label for row in credentials.rows} == {"ID.me", "Login.gov"}


@pytest.mark.parametrize(
    "name",
    ["@user_uuid", "usr.id", "@payload.icn", "message", "@named_tags.request_id", "@dd.trace_id"],
)
def test_cohorts_refuse_identifying_fields(name: str) -> None:
    with pytest.raises(selectors.UnknownName, match="identifies patients or single requests"):
        selectors.cohort_field(name)


def test_other_fields_are_allowed() -> None:
    field = selectors.cohort_field("@http.method")
    assert field.group_by == "@http.method"


@pytest.mark.parametrize(
    ("value", "identifying"),
    [
        ("1012345678V123456", True),
        ("4b60b714-4e21-4028-a068-4c4e4d7df7a6", True),
        ("4b60b7144e214028a0684c4e4d7df7a6", True),
        ("123-45-6789", True),
        ("1234567890", True),
        ("jane.doe@example.com", True),
        ("589", False),
        ("ORACLE_HEALTH", False),
        ("9a374eb0751a7ce294d8dcafdeff7d4ff7ffee5b", False),  # a git SHA
        ("/my_health/v1/prescriptions/12345/refill", False),
        ("GET", False),
    ],
)
def test_identifier_shaped_values(value: str, identifying: bool) -> None:
    assert selectors.identifying_value(value) is identifying


def test_names_are_checked() -> None:
    with pytest.raises(selectors.UnknownName, match="not a station number"):
        selectors.check_station("58; DROP")
    with pytest.raises(selectors.UnknownName, match="no upstream named"):
        selectors.check_upstream("vista OR x")
    with pytest.raises(selectors.UnknownName, match="window"):
        selectors.window_for("2h")
    assert selectors.check_station(" 528a7 ") == "528A7"
