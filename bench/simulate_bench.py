"""Throughput of the log simulator's fast path (``write_jsonl``).

Usage: python bench/simulate_bench.py [--events 2000000] [--users 10000] [--out PATH]

By default the lines go to a sink that only counts them (so the disk is not measured), or to
--out. Prints events, bytes, wall and CPU seconds and both rates; exits 1 if the wall-clock rate is
under --min-rate. The config is one simulated day with all six scenarios, at the rate that gives
about --events events.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from backline.logs.simulate import SimulationConfig, all_scenarios, write_jsonl


class _Sink:
    """A binary file that keeps nothing, so the benchmark measures generation, not the disk."""

    def write(self, data: Any) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000, help="about how many events")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=1.0, help="simulated days (rate follows)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", help="write here instead of discarding")
    parser.add_argument("--min-rate", type=float, default=200_000.0)
    args = parser.parse_args(argv)
    config = SimulationConfig(
        seed=args.seed,
        days=args.days,
        users=args.users,
        events_per_second=args.events / (args.days * 86_400),
        scenarios=all_scenarios(),
    )
    cpu_began = time.process_time()
    summary = write_jsonl(config, args.out if args.out else _Sink())  # type: ignore[arg-type]
    cpu = time.process_time() - cpu_began
    rate = summary.events_per_second
    # CPU time next to wall time: on a shared machine the wall-clock rate mostly measures the
    # neighbours; the CPU rate is what one free core would do.
    print(
        f"events={summary.events} bytes={summary.bytes} seconds={summary.seconds:.2f} "
        f"cpu_seconds={cpu:.2f} events_per_second={rate:,.0f} "
        f"events_per_cpu_second={summary.events / cpu:,.0f} "
        f"bytes_per_event={summary.bytes / summary.events:.0f}"
    )
    return 0 if rate >= args.min_rate else 1


if __name__ == "__main__":
    sys.exit(main())
