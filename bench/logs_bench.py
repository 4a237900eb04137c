"""The log store at scale: ingest rate, size per million events, and five investigation queries.

Usage: python bench/logs_bench.py [--events 10000000] [--days 7] [--runs 20] [--brute-runs 2]
                                  [--ingest-runs 3] [--slice 2000000] [--out-dir bench/out] [--keep]
                                  [--only-ingest] [--jsonl FILE] [--quiet-load 1.5 --quiet-wait 300]

Steps: simulate about --events events over --days (``write_jsonl``) into --out-dir, ingest them
into a fresh store with ``import_file`` (the path ``backline logs import`` takes), then time the
five queries of issue 5 three ways in the same run:

- Backline: through ``DuckDBSource`` (query language compiled to SQL, the store's cached reader,
  results as ``LogEvent`` / ``FacetValue`` / ``GroupValues``),
- SQL: hand-written DuckDB SQL on a persistent read-only connection to the same file, doing the
  same work: the same columns, filters, ordering (searches: ``ts, rowid`` descending), limits
  (searches fetch ``limit + 1`` rows, as the pager does) and ``fetchall()`` into Python tuples;
  Backline and SQL runs alternate, so a busy spell on the machine slows both alike,
- brute force: ``grep -F`` over the JSON lines, then Python ``json.loads`` on what grep kept.

Ingest is also measured on the first --slice lines, --ingest-runs times with and without error
signatures (alternating, median reported), with the load average and the process CPU time. The
signature hook here is the pattern miner in memory (``TemplateMiner``); the Django hook adds one
small transaction per load to save the miner state and the touched templates. The machine is
shared, so wall-clock rates depend on the neighbours: with --quiet-load each ingest first waits
(at most --quiet-wait seconds) for the 1-minute load average to drop below that value, and the
report gives events per CPU-second times the cores as a second, steadier figure (the rate if
the ingest had every core to itself and used them all).

--only-ingest stops after the ingests (no queries). --jsonl FILE ingests an existing JSON-lines
file instead of simulating one (the file is never deleted).

``now`` is fixed inside the simulated week (Thursday 14:00 Eastern) so "last hour" has traffic.
Prints a Markdown report (machine, numbers, ratios) for docs/benchmarks.md. Deletes the JSON and the
store afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from backline.logs.duckdb_source import DuckDBSource
from backline.logs.ingest import SignatureHook, import_file
from backline.logs.simulate import DEFAULT_START, SimulationConfig, all_scenarios, write_jsonl
from backline.logs.store import forget_store, open_store
from backline.patterns.engine import TemplateMiner

PHRASE = "Prescription service error"


def _timed(function: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times = []
    result = None
    for _ in range(runs):
        began = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - began) * 1000)
    return times, result


def _p(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _grep(path: Path, needle: str) -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(["grep", "-F", needle, str(path)], stdout=subprocess.PIPE)
    assert process.stdout is not None
    for line in process.stdout:
        yield json.loads(line)
    process.wait()


def _miner_hook() -> SignatureHook:
    miner = TemplateMiner()

    def hook(messages: list[str]) -> list[str]:
        ids = [miner.add(message).template_id for message in messages]
        return [miner.resolve(template_id) for template_id in ids]

    return hook


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _wait_for_quiet(threshold: float | None, patience: float) -> None:
    """Wait until the 1-minute load average is below ``threshold`` (or ``patience`` runs out)."""
    if threshold is None:
        return
    deadline = time.monotonic() + patience
    while os.getloadavg()[0] >= threshold and time.monotonic() < deadline:
        time.sleep(5)


def _ingest_once(
    path: Path, store_dir: Path, hook: SignatureHook | None
) -> tuple[int, float, float, float]:
    """(events, wall seconds, CPU seconds, 1-minute load before) of one import into a new store."""
    shutil.rmtree(store_dir, ignore_errors=True)
    store = open_store(store_dir / "logs.duckdb")
    load = os.getloadavg()[0]
    cpu = _cpu_seconds()
    began = time.perf_counter()
    result = import_file(store, path, signature_hook=hook)
    wall = time.perf_counter() - began
    cpu = _cpu_seconds() - cpu
    assert not result.bad, result.bad[:3]
    forget_store(store_dir / "logs.duckdb")
    shutil.rmtree(store_dir, ignore_errors=True)
    return result.events, wall, cpu, load


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--brute-runs", type=int, default=2)
    parser.add_argument("--ingest-runs", type=int, default=3)
    parser.add_argument("--slice", type=int, default=2_000_000, help="lines for ingest repeats")
    parser.add_argument("--out-dir", type=Path, default=Path("bench/out"))
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--only-ingest", action="store_true", help="stop after the ingests")
    parser.add_argument("--jsonl", type=Path, help="ingest this file instead of simulating one")
    parser.add_argument(
        "--quiet-load", type=float, help="before each ingest, wait for a load average below this"
    )
    parser.add_argument("--quiet-wait", type=float, default=300.0, help="longest wait, seconds")
    args = parser.parse_args(argv)

    out_dir = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    store_dir = out_dir / "logs_bench_store"
    shutil.rmtree(store_dir, ignore_errors=True)
    report: list[str] = []

    if args.jsonl is not None:
        jsonl = args.jsonl
        with open(jsonl, "rb") as existing:
            events_in_file = sum(1 for _ in existing)
        data_line = (
            f"Data: {events_in_file:,} events from {jsonl.name}, {jsonl.stat().st_size / 1e9:.2f} GB"
            f" of JSON lines ({jsonl.stat().st_size / events_in_file:.0f} bytes/event)"
        )
    else:
        jsonl = out_dir / "logs_bench.jsonl"
        config = SimulationConfig(
            seed=5,
            days=args.days,
            users=args.users,
            events_per_second=args.events / (args.days * 86400),
            scenarios=all_scenarios(),
        )
        summary = write_jsonl(config, jsonl)
        print(f"simulated {summary.events} events, {summary.bytes / 1e9:.2f} GB", file=sys.stderr)
        data_line = (
            f"Data: {summary.events:,} simulated events over {args.days:g} days, "
            f"{summary.bytes / 1e9:.2f} GB of JSON lines "
            f"({summary.bytes / summary.events:.0f} bytes/event)"
        )
    cores = os.cpu_count() or 1

    # Ingest repeats on a slice, with and without signatures, alternating so that a busy spell
    # on the shared machine hits both.
    piece = out_dir / "logs_bench_slice.jsonl"
    with open(jsonl, "rb") as source_lines, open(piece, "wb") as sliced:
        for number, line in enumerate(source_lines):
            if number >= args.slice:
                break
            sliced.write(line)
    repeats: dict[str, list[tuple[int, float, float, float]]] = {"without": [], "with": []}
    for _ in range(args.ingest_runs):
        for variant in ("without", "with"):
            hook = _miner_hook() if variant == "with" else None
            _wait_for_quiet(args.quiet_load, args.quiet_wait)
            repeats[variant].append(_ingest_once(piece, out_dir / "logs_bench_slice_store", hook))
            events, wall, cpu, load = repeats[variant][-1]
            print(
                f"slice ingest {variant} signatures: {events / wall:,.0f}/s wall, "
                f"cpu {cpu:.1f}s, load {load:.1f}",
                file=sys.stderr,
            )
    piece.unlink(missing_ok=True)

    _wait_for_quiet(args.quiet_load, args.quiet_wait)
    store = open_store(store_dir / "logs.duckdb")
    load1 = os.getloadavg()[0]
    cpu_before = _cpu_seconds()
    began = time.perf_counter()
    loaded = import_file(store, jsonl)
    ingest_seconds = time.perf_counter() - began
    ingest_cpu = _cpu_seconds() - cpu_before
    load_after = os.getloadavg()[0]
    assert not loaded.bad, loaded.bad[:3]
    size = (store_dir / "logs.duckdb").stat().st_size
    print(f"ingested in {ingest_seconds:.1f}s", file=sys.stderr)

    machine = (
        f"{platform.machine()}, {cores} cores, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}"
    )
    command = (
        "Command: `.venv/bin/python bench/logs_bench.py"
        + (f" --jsonl {args.jsonl.name}" if args.jsonl else f" --events {args.events}")
        + (" --only-ingest" if args.only_ingest else "")
        + f" --runs {args.runs} --brute-runs {args.brute_runs} --ingest-runs {args.ingest_runs}"
        + f" --slice {args.slice}"
        + (
            f" --quiet-load {args.quiet_load:g} --quiet-wait {args.quiet_wait:g}"
            if args.quiet_load is not None
            else ""
        )
        + "`  "
    )
    report.append(command)
    report.append(
        f"Machine: {machine}; 1-minute load average at ingest start {load1:.1f} (a shared machine)  "
    )
    report.append(data_line)
    report.append("")
    report.append(
        f"- Ingest, all {loaded.events:,} events, no signatures: {ingest_seconds:.1f} s = "
        f"**{loaded.events / ingest_seconds:,.0f} events/s** wall; process CPU {ingest_cpu:.1f} s "
        f"({loaded.events / ingest_cpu:,.0f} events per CPU-second, x {cores} cores = "
        f"{cores * loaded.events / ingest_cpu:,.0f}/s); load average "
        f"{load1:.1f} before, {load_after:.1f} after"
    )
    for variant, runs in repeats.items():
        if not runs:
            continue
        rates = [events / wall for events, wall, _, _ in runs]
        per_cpu = [events / cpu for events, _, cpu, _ in runs]
        loads = ", ".join(f"{load:.1f}" for *_, load in runs)
        report.append(
            f"- Ingest of the first {runs[0][0]:,} events, {variant} signatures, {len(runs)} runs: "
            f"median **{statistics.median(rates):,.0f} events/s** wall "
            f"(runs: {', '.join(f'{r:,.0f}' for r in rates)}); "
            f"median {statistics.median(per_cpu):,.0f} events per CPU-second "
            f"(x {cores} cores = {cores * statistics.median(per_cpu):,.0f}/s); "
            f"load averages {loads}"
        )
    report.append(
        f"- Store size: {size / 1e9:.2f} GB = {size / 1e6 / (loaded.events / 1e6):.0f} MB per million events"
    )

    if args.only_ingest:
        print("\n".join(report))
        forget_store(store_dir / "logs.duckdb")
        _clean_up(args, jsonl, store_dir)
        return 0

    now = DEFAULT_START + timedelta(days=3, hours=19)  # Thursday 14:00 Eastern
    day, hour, half = (
        now - timedelta(hours=24),
        now - timedelta(hours=1),
        now - timedelta(minutes=30),
    )
    naive = {
        k: v.replace(tzinfo=None)
        for k, v in {"now": now, "day": day, "hour": hour, "half": half}.items()
    }

    direct = duckdb.connect(str(store_dir / "logs.duckdb"), read_only=True)
    top = direct.execute(
        "SELECT user_id FROM events WHERE ts >= ? AND ts < ? AND user_id IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
        [naive["day"], naive["now"]],
    ).fetchone()
    assert top is not None
    user = top[0]
    source = DuckDBSource(store)

    columns = (
        "ts, service, host, status, message, user_id, request_id, trace_id, http_method, path, "
        "status_code, duration_ms, upstream, facility, data_source, error_code, version, "
        "signature, attrs, rowid"
    )

    def page_sql(where: str, limit: int) -> str:
        # The same page the pager fetches: all columns, newest first, one extra row to know
        # whether there is a next page.
        return (
            f"SELECT {columns} FROM events WHERE ts >= ? AND ts < ? AND {where} "
            f"ORDER BY ts DESC, rowid DESC LIMIT {limit + 1}"
        )

    def page_key(rows: list[tuple[Any, ...]], limit: int) -> list[tuple[Any, ...]]:
        return [(row[0], row[6], row[4]) for row in rows[:limit]]

    def events_key(events: list[Any]) -> list[tuple[Any, ...]]:
        return [
            (e.ts.replace(tzinfo=None), e.columns.get("request_id"), e.columns.get("message"))
            for e in events
        ]

    queries: dict[str, dict[str, Callable[[], Any]]] = {
        "a. one user's events, 24 h": {
            "backline": lambda: events_key(
                source.search(f"@user_uuid:{user}", day, now, limit=1000).events
            ),
            "sql": lambda: page_key(
                direct.execute(
                    page_sql("user_id = ?", 1000), [naive["day"], naive["now"], user]
                ).fetchall(),
                1000,
            ),
            "brute": lambda: sum(
                1
                for e in _grep(jsonl, user)
                if e.get("user_uuid") == user and _iso(day) <= e["timestamp"] < _iso(now)
            ),
        },
        "b. errors by service, last hour": {
            "backline": lambda: [
                (v.value, v.count)
                for v in source.facets("status:error", hour, now, fields=["service"])["service"]
            ],
            "sql": lambda: direct.execute(
                "SELECT service, count(*) AS n FROM events "
                "WHERE ts >= ? AND ts < ? AND status = 'error' "
                "GROUP BY 1 ORDER BY n DESC, service NULLS LAST LIMIT 10",
                [naive["hour"], naive["now"]],
            ).fetchall(),
            "brute": lambda: sorted(
                Counter(
                    e.get("service")
                    for e in _grep(jsonl, '"status":"error"')
                    if _iso(hour) <= e["timestamp"] < _iso(now)
                ).items()
            ),
        },
        "c. distinct users per error code, 30 min": {
            "backline": lambda: [
                (r.group, int(r.values["distinct"] or 0))
                for r in source.count_distinct(
                    "status:error",
                    half,
                    now,
                    field="@user_uuid",
                    group_by="@error_code",
                    limit=1000,
                )
            ],
            "sql": lambda: [
                (row[0], int(row[1]))
                for row in direct.execute(
                    "SELECT error_code, count(DISTINCT user_id), count(*) AS n FROM events "
                    "WHERE ts >= ? AND ts < ? AND status = 'error' AND user_id IS NOT NULL "
                    "GROUP BY 1 ORDER BY n DESC, error_code NULLS LAST LIMIT 1000",
                    [naive["half"], naive["now"]],
                ).fetchall()
            ],
            "brute": lambda: _distinct_brute(jsonl, half, now),
        },
        "d. free-text phrase, 24 h": {
            "backline": lambda: events_key(source.search(f'"{PHRASE}"', day, now, limit=50).events),
            "sql": lambda: page_key(
                direct.execute(
                    page_sql("message ILIKE ?", 50),
                    [naive["day"], naive["now"], f"%{PHRASE}%"],
                ).fetchall(),
                50,
            ),
            "brute": lambda: min(
                50, sum(1 for e in _grep(jsonl, PHRASE) if _iso(day) <= e["timestamp"] < _iso(now))
            ),
        },
        "e. p95 duration by facility, 24 h": {
            "backline": lambda: [
                (r.group, r.values["p95"])
                for r in source.percentiles(
                    "*", day, now, field="@duration_ms", ps=(95,), group_by="facility", limit=1000
                )
            ],
            "sql": lambda: [
                (row[0], row[1][0])
                for row in direct.execute(
                    "SELECT facility, quantile_cont(duration_ms, [0.95]), count(*) AS n "
                    "FROM events WHERE ts >= ? AND ts < ? AND duration_ms IS NOT NULL "
                    "GROUP BY 1 ORDER BY n DESC, facility NULLS LAST LIMIT 1000",
                    [naive["day"], naive["now"]],
                ).fetchall()
            ],
            "brute": lambda: _p95_brute(jsonl, day, now),
        },
    }

    rows = []
    for name, ways in queries.items():
        measured: dict[str, list[float]] = {"backline": [], "sql": []}
        answers = {}
        ways["backline"]()  # warm the reader connections (brute force warms the page cache)
        ways["sql"]()
        # Backline and SQL take turns, first one then the other, so that a busy spell on the
        # shared machine slows both sides alike instead of one side's whole series.
        for run in range(args.runs):
            order = ("backline", "sql") if run % 2 == 0 else ("sql", "backline")
            for way in order:
                times, answers[way] = _timed(ways[way], 1)
                measured[way].extend(times)
        measured["brute"], answers["brute"] = _timed(ways["brute"], args.brute_runs)
        for way in ways:
            print(f"{name} {way}: p50 {_p(measured[way], 50):.1f} ms", file=sys.stderr)
        if answers["backline"] != answers["sql"]:
            print(f"WARNING {name}: Backline and SQL answers differ", file=sys.stderr)
        rows.append((name, measured, answers))

    report.append("")
    report.append(
        "| query | Backline p50 / p95 ms | SQL p50 / p95 ms | brute p50 ms | Backline/SQL (p50) | brute/Backline (p50) | same answer |"
    )
    report.append("|---|---|---|---|---|---|---|")
    for name, measured, answers in rows:
        b50, b95 = _p(measured["backline"], 50), _p(measured["backline"], 95)
        s50, s95 = _p(measured["sql"], 50), _p(measured["sql"], 95)
        g50 = _p(measured["brute"], 50)
        report.append(
            f"| {name} | {b50:.1f} / {b95:.1f} | {s50:.1f} / {s95:.1f} | {g50:,.0f} | "
            f"{b50 / s50:.2f}x | {g50 / b50:,.0f}x | {'yes' if answers['backline'] == answers['sql'] else 'no'} |"
        )
    print("\n".join(report))

    direct.close()
    forget_store(store_dir / "logs.duckdb")
    _clean_up(args, jsonl, store_dir)
    return 0


def _clean_up(args: argparse.Namespace, jsonl: Path, store_dir: Path) -> None:
    if args.keep:
        return
    if args.jsonl is None:  # only what this run simulated; a given file is never deleted
        jsonl.unlink(missing_ok=True)
    shutil.rmtree(store_dir, ignore_errors=True)


def _distinct_brute(path: Path, start: datetime, end: datetime) -> list[tuple[str, int]]:
    users: dict[str, set[str]] = defaultdict(set)
    for e in _grep(path, '"status":"error"'):
        if _iso(start) <= e["timestamp"] < _iso(end) and e.get("user_uuid"):
            users[str(e.get("error_code"))].add(e["user_uuid"])
    return sorted((code, len(ids)) for code, ids in users.items())


def _p95_brute(path: Path, start: datetime, end: datetime) -> int:
    # No cheap grep for a time window: every line is parsed (the honest brute-force cost).
    low, high = _iso(start), _iso(end)
    durations: dict[str, list[float]] = defaultdict(list)
    with open(path, "rb") as lines:
        for line in lines:
            e = json.loads(line)
            if low <= e["timestamp"] < high and e.get("duration_ms") is not None:
                durations[str(e.get("facility"))].append(float(e["duration_ms"]))
    return len({k: _p(sorted(v), 95) for k, v in durations.items() if v})


if __name__ == "__main__":
    raise SystemExit(main())
