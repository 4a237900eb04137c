"""Escalation recommendations against the simulator's ground truth.

Usage: python bench/escalation_eval.py [--seeds 1 2 3] [--intensities 1 2] [--users 3000]
                                       [--rate 2] [--days 4] [--from-hour 9] [--to-hour 16]
                                       [--every 15]

For each seed and intensity: simulate ``--days`` days with all six scenarios starting on the last
day between 10:00 and 14:00 Eastern (so three earlier days give baselines), sign every event with
a fresh template miner, ingest into a temporary store, then

1. run detection (``analysis.detect_candidates``, the pure part of ``services.detect``) every
   ``--every`` simulated seconds (the worker's cadence, 15) from ``--from-hour`` to ``--to-hour``
   Eastern, skipping keys already proposed and the signatures of proposed incidents (as
   ``services.detect`` does);
   Detection tests a 5-minute and a 30-minute window, each against same-length windows around
   the same time on the earlier days (``analysis.DETECTION_WINDOWS``);
2. compute the per-ticket recommendation (``analysis.ticket_analysis``) for each scenario's
   ticket seed at the moment Tier 2 files it.

A proposed incident is attributed to a scenario when, in its 30-minute window, its signature's
errors include the scenario's affected users inside the scenario's window (security: the user
is the scenario's; an upstream down or degraded: the scenario's upstream at the scenario's
facility). Anything else is a background proposal (a false alarm). Prints Markdown.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from backline.escalation import analysis
from backline.escalation.rules import TARGETS, Thresholds
from backline.escalation.simstore import at, build_store, scenario_day_specs
from backline.logs.duckdb_source import DuckDBSource
from backline.logs.simulate import (
    SCENARIO_NAMES,
    ScenarioTruth,
    SimulationConfig,
    manifest,
    ticket_seeds,
)
from backline.logs.store import forget_store

# The query language refuses queries over 10,000 characters; 150 quoted UUIDs stay under it.
ATTRIBUTION_USERS = 150


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def first_error(source: DuckDBSource, truth: ScenarioTruth) -> datetime | None:
    """The scenario's first visible event: its first error, or the session's first read."""
    end = truth.end + timedelta(minutes=1)
    if truth.name == "security_session_reads_many":
        ip = truth.details["remote_ip"]
        query = f'@named_tags.remote_ip:"{ip}"'
    else:
        users = " OR ".join(f'"{u}"' for u in truth.affected_user_uuids[:ATTRIBUTION_USERS])
        codes = {truth.error_code, str(truth.details.get("also_error_code", truth.error_code))}
        query = f"@user_uuid:({users}) @error_code:(" + " OR ".join(sorted(codes)) + ")"
    event = analysis.first_event(source, query, truth.start, end)
    return event.ts if event else None


def first_affected(source: DuckDBSource, truth: ScenarioTruth) -> datetime | None:
    """An upstream scenario's first call to the upstream from its facility once it began (a
    latency regression slows calls before any of them times out); else the first error."""
    places = [str(p) for p in truth.details.get("sites", [truth.details.get("station")]) if p]
    if truth.root_cause_kind != "upstream" or not places:
        return first_error(source, truth)
    where = " OR ".join(f'"{p}"' for p in places)
    query = f'@upstream:"{truth.upstream}" @facility:({where})'
    event = analysis.first_event(source, query, truth.start, truth.end)
    return event.ts if event else None


def attribute(
    source: DuckDBSource, candidate: analysis.Candidate, now: datetime, truths: list[ScenarioTruth]
) -> str:
    for truth in truths:
        if not truth.start <= now <= truth.end + timedelta(minutes=30):
            continue
        if candidate.kind == "security":
            if candidate.subject in truth.affected_user_uuids:
                return truth.name
            continue
        if candidate.kind == "upstream":
            places = {truth.target, *truth.details.get("sites", [])}
            upstream, facility = candidate.numbers["upstream"], candidate.numbers["facility"]
            if upstream == truth.upstream and facility in places:
                return truth.name
            continue
        users = " OR ".join(f'"{u}"' for u in truth.affected_user_uuids[:ATTRIBUTION_USERS])
        query = f"@signature:{candidate.signature} @user_uuid:({users})"
        if analysis.count(source, query, max(truth.start, now - timedelta(minutes=30)), now):
            return truth.name
    return "background"


@dataclass
class RunResult:
    seed: int
    intensity: float
    events: int
    build_seconds: float
    detect_seconds: float
    ticks: int
    ticket: dict[str, str]  # scenario -> recommended target
    detected: dict[str, tuple[str, float, float]]  # scenario -> (target, s after first error,
    # s after the first affected call)
    false_alarms: list[str]


def run(seed: int, intensity: float, args: argparse.Namespace, t: Thresholds) -> RunResult:
    rng = random.Random(seed)
    hours = [10 + 0.75 * i for i in range(len(SCENARIO_NAMES))]
    rng.shuffle(hours)
    day = args.days - 1
    specs = scenario_day_specs(list(SCENARIO_NAMES), day=day, hours=hours, intensity=intensity)
    config = SimulationConfig(
        seed=seed,
        days=args.days,
        users=args.users,
        events_per_second=args.rate,
        scenarios=specs,
    )
    truths = manifest(config)
    folder = Path(tempfile.mkdtemp(prefix="backline-escalation-eval-"))
    path = folder / "logs.duckdb"
    began = time.perf_counter()
    store, _ = build_store(config, path)
    built = time.perf_counter() - began
    source = DuckDBSource(store)
    try:
        firsts = {truth.name: first_error(source, truth) for truth in truths}
        affected = {truth.name: first_affected(source, truth) for truth in truths}
        state = analysis.DetectionState()
        proposed: set[str] = set()
        detected: dict[str, tuple[str, float, float]] = {}
        false_alarms: list[str] = []
        now, end = at(day, args.from_hour), at(day, args.to_hour)
        ticks = 0
        began = time.perf_counter()
        while now < end:
            for c in analysis.detect_candidates(source, now, t, state=state, skip_keys=proposed):
                proposed.add(c.key)
                if c.signature:
                    proposed.add(f"sig:{c.signature}")
                name = attribute(source, c, now, truths)
                if name == "background":
                    why = next((r.numbers for r in c.recommendation.results if r.decides), {})
                    print(f"  false alarm at {now:%H:%M}: {c.title[:50]} {why}", file=sys.stderr)
                    false_alarms.append(f"{c.recommendation.target}: {c.title[:60]}")
                    continue
                first, onset = firsts.get(name), affected.get(name)
                delay = (now - first).total_seconds() if first else float("nan")
                since = (now - onset).total_seconds() if onset else float("nan")
                if name not in detected:
                    detected[name] = (c.recommendation.target, delay, since)
            now += timedelta(seconds=args.every)
            ticks += 1
        detect_seconds = time.perf_counter() - began
        ticket: dict[str, str] = {}
        for seed_row in ticket_seeds(config):
            found = analysis.ticket_analysis(
                source,
                user_id=seed_row["affected_user_id"],
                occurred_at=_time(seed_row["occurred_at"]),
                occurred_until=_time(seed_row["occurred_until"]),
                now=_time(seed_row["reported_at"]),
                thresholds=t,
            )
            ticket[seed_row["scenario"]] = found.recommendation.target
        return RunResult(
            seed,
            intensity,
            store.count(),
            built,
            detect_seconds,
            ticks,
            ticket,
            detected,
            false_alarms,
        )
    finally:
        forget_store(path)
        for name in os.listdir(folder):
            os.unlink(folder / name)
        os.rmdir(folder)


def spread(values: list[float]) -> str:
    """min / median / max, or - when empty."""
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[0]:.0f} / {ordered[len(ordered) // 2]:.0f} / {ordered[-1]:.0f}"


def precision_recall(pairs: list[tuple[str, str]]) -> dict[str, tuple[float, float, int]]:
    """Per target: (precision, recall, support) over (truth, predicted) pairs."""
    out: dict[str, tuple[float, float, int]] = {}
    for target in TARGETS:
        tp = sum(1 for truth, got in pairs if truth == target and got == target)
        fp = sum(1 for truth, got in pairs if truth != target and got == target)
        fn = sum(1 for truth, got in pairs if truth == target and got != target)
        precision = tp / (tp + fp) if tp + fp else float("nan")
        recall = tp / (tp + fn) if tp + fn else float("nan")
        out[target] = (precision, recall, tp + fn)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--intensities", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=2.0)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--from-hour", type=float, default=9.0)
    parser.add_argument("--to-hour", type=float, default=16.0)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between evaluations")
    args = parser.parse_args()
    t = Thresholds()
    truth_of = {}
    results: list[RunResult] = []
    for seed in args.seeds:
        for intensity in args.intensities:
            result = run(seed, intensity, args, t)
            results.append(result)
            print(
                f"seed {seed} intensity {intensity:g}: {result.events} events, build "
                f"{result.build_seconds:.0f}s, detection {result.detect_seconds:.0f}s for "
                f"{result.ticks} evaluations",
                file=sys.stderr,
            )
    probe = SimulationConfig(days=args.days, users=args.users, scenarios=[])
    del probe
    for name in SCENARIO_NAMES:
        spec = scenario_day_specs([name], day=args.days - 1, hours=[10])
        config = SimulationConfig(days=args.days, users=args.users, scenarios=spec)
        truth_of[name] = manifest(config)[0].escalation

    print(f"Machine: {platform.processor() or platform.machine()}, nproc {os.cpu_count()}, ")
    print(f"Python {platform.python_version()}; users {args.users}, rate {args.rate}/s, ")
    print(f"{args.days} days, seeds {args.seeds}, intensities {args.intensities}.\n")
    print("| scenario | truth | ticket recommendation right | detected | detected as | "
          "delay after first error (s) | delay after first affected call (s) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    ticket_pairs: list[tuple[str, str]] = []
    detect_pairs: list[tuple[str, str]] = []
    for name in SCENARIO_NAMES:
        truth = truth_of[name]
        right = sum(1 for r in results if r.ticket.get(name) == truth)
        found = [r.detected[name] for r in results if name in r.detected]
        targets = Counter(target for target, _, _ in found)
        print(
            f"| {name} | {truth} | {right}/{len(results)} | {len(found)}/{len(results)} | "
            f"{dict(targets) or '-'} | {spread([d for _, d, _ in found])} | "
            f"{spread([d for _, _, d in found])} |"
        )
        for r in results:
            ticket_pairs.append((truth, r.ticket.get(name, "tier3")))
            detect_pairs.append((truth, r.detected[name][0] if name in r.detected else "tier3"))
    print(
        "\nDelay: min / median / max over runs where it was detected, in seconds from the "
        "scenario's first error and from its first affected call (upstream scenarios: the first "
        "call to the upstream from the facility after it began; others: the first error). "
        "Negative: proposed before the first error.\n"
    )
    # A background proposal is a false positive for the target it was proposed for.
    for r in results:
        for alarm in r.false_alarms:
            detect_pairs.append(("none", alarm.split(":", 1)[0]))
    for label, pairs in (("Ticket recommendation", ticket_pairs), ("Detection", detect_pairs)):
        print(f"{label}: precision / recall per target (support)\n")
        print("| target | precision | recall | support |")
        print("|---|---|---|---|")
        for target, (p, rc, n) in precision_recall(pairs).items():
            print(f"| {target} | {p:.3f} | {rc:.3f} | {n} |")
        print()
    alarms: defaultdict[str, int] = defaultdict(int)
    for r in results:
        for alarm in r.false_alarms:
            alarms[alarm] += 1
    total_ticks = sum(r.ticks for r in results)
    hours = max(total_ticks * args.every / 3600, 1e-9)
    print(f"Background proposals (false alarms): {sum(alarms.values())} over {total_ticks} "
          f"evaluations, {hours:.0f} simulated hours ({sum(alarms.values()) / hours:.3f} per hour)")  # fmt: skip
    for alarm, n in sorted(alarms.items(), key=lambda kv: -kv[1]):
        print(f"- {n} x {alarm}")
    print(
        f"\nTiming: build (simulate + sign + ingest) {sum(r.build_seconds for r in results):.0f}s,"
        f" detection {sum(r.detect_seconds for r in results):.0f}s "
        f"({1000 * sum(r.detect_seconds for r in results) / max(total_ticks, 1):.0f} ms per "
        "evaluation)"
    )


if __name__ == "__main__":
    main()
