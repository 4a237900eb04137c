"""Build a signed log store from the simulator: shared by the escalation tests and the benchmark.

Framework-free: the simulator writes JSON lines, the store imports them, and a fresh
``TemplateMiner`` gives every event its signature the way ingest does (the Django-side hook keeps
its miner in the database; here it lives in memory). Merged-away template ids are rewritten to
their survivors afterwards, as ``patterns.services.signatures_for`` resolves them.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backline.logs.ingest import import_file
from backline.logs.simulate import DEFAULT_START, ScenarioSpec, SimulationConfig, write_jsonl
from backline.logs.store import LogStore, open_store
from backline.patterns.engine import TemplateMiner


def sign_store(store: LogStore, miner: TemplateMiner) -> None:
    """Point every event whose template was merged away at the surviving template."""
    aliases = {old: miner.resolve(old) for old in miner.to_state().get("aliases", {})}
    if not aliases:
        return
    with store.write() as connection:
        connection.execute(
            "CREATE TEMP TABLE IF NOT EXISTS signature_aliases (old VARCHAR, new VARCHAR)"
        )
        connection.execute("DELETE FROM signature_aliases")
        connection.execute(
            "INSERT INTO signature_aliases SELECT unnest(?), unnest(?)",
            [list(aliases), list(aliases.values())],
        )
        connection.execute(
            "UPDATE events SET signature = signature_aliases.new FROM signature_aliases "
            "WHERE events.signature = signature_aliases.old"
        )


def build_store(
    config: SimulationConfig, path: Path, *, miner: TemplateMiner | None = None
) -> tuple[LogStore, TemplateMiner]:
    """Simulate ``config`` into a new store at ``path``, every event signed."""
    miner = miner or TemplateMiner()
    store = open_store(path)
    handle, name = tempfile.mkstemp(suffix=".jsonl", prefix="backline-escalation-")
    os.close(handle)
    try:
        write_jsonl(config, name)

        def hook(messages: list[str]) -> list[str]:
            return [match.template_id for match in miner.add_many(messages)]

        import_file(store, Path(name), signature_hook=hook)
    finally:
        os.unlink(name)
    sign_store(store, miner)
    return store, miner


def scenario_day_specs(
    names: list[str], *, day: int, hours: list[float], intensity: float = 1.0
) -> list[ScenarioSpec]:
    """Scenarios starting on simulated day ``day`` at the given Eastern-time hours (UTC-5 in
    January), so earlier days give every scenario a baseline."""
    specs = []
    for name, hour in zip(names, hours, strict=True):
        start = DEFAULT_START + timedelta(days=day, hours=hour)
        specs.append(ScenarioSpec(name=name, start=start.astimezone(UTC), intensity=intensity))
    return specs


def at(day: int, hour: float) -> datetime:
    """Simulated day ``day`` at ``hour`` Eastern (January, so UTC-5)."""
    return DEFAULT_START + timedelta(days=day, hours=hour)
