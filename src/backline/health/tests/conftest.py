"""A small simulated store shared by the health tests: two 6-hour slices a week apart.

Last week's slice is plain traffic; this week's carries ``vista_station_outage`` (16:00-17:00 UTC)
and ``oracle_health_latency`` (15:00-17:00 UTC). Same seed and population, so every station has a
baseline. Built once per test session (a few seconds) under a temporary folder, never var/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from backline.logs.duckdb_source import DuckDBSource
from backline.logs.ingest import import_file
from backline.logs.simulate import (
    ScenarioSpec,
    ScenarioTruth,
    SimulationConfig,
    manifest,
    write_jsonl,
)
from backline.logs.store import forget_store, open_store

THIS_WEEK = datetime(2025, 1, 14, 14, 0, tzinfo=UTC)  # a Tuesday, 09:00 Eastern
OUTAGE_START = THIS_WEEK + timedelta(hours=2)
LATENCY_START = THIS_WEEK + timedelta(hours=1)


@dataclass(frozen=True)
class World:
    folder: Path
    outage: ScenarioTruth
    latency: ScenarioTruth
    affected_uuids: frozenset[str]


def _config(start: datetime, scenarios: list[ScenarioSpec]) -> SimulationConfig:
    return SimulationConfig(
        seed=5, start=start, days=0.25, users=500, events_per_second=2, scenarios=scenarios
    )


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("health-logs")
    store = open_store(folder / "logs.duckdb")
    this_week = _config(
        THIS_WEEK,
        [
            ScenarioSpec("vista_station_outage", start=OUTAGE_START, duration=timedelta(hours=1)),
            ScenarioSpec("oracle_health_latency", start=LATENCY_START, duration=timedelta(hours=2)),
        ],
    )
    for config in (_config(THIS_WEEK - timedelta(days=7), []), this_week):
        lines = folder / "events.jsonl"
        write_jsonl(config, lines)
        import_file(store, lines)
        lines.unlink()
    outage, latency = manifest(this_week)
    yield World(
        folder=folder,
        outage=outage,
        latency=latency,
        affected_uuids=frozenset(outage.affected_user_uuids) | set(latency.affected_user_uuids),
    )
    forget_store(folder / "logs.duckdb")


@pytest.fixture
def source(world: World) -> DuckDBSource:
    return DuckDBSource(open_store(world.folder / "logs.duckdb"))


@pytest.fixture
def health_logs(world: World, settings: Any) -> World:
    """Point settings.VAR_DIR (and so the log source) at the simulated store."""
    settings.VAR_DIR = world.folder
    settings.BACKLINE_LOG_SOURCE = "duckdb"
    return world
