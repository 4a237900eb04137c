"""Template miner benchmark: grouping accuracy and throughput, ours against drain3.

Usage: .venv/bin/python bench/miner_bench.py [LOGHUB_2K_DIR] [--repeat N] [--pure]

LOGHUB_2K_DIR defaults to ../shared/benchdata/loghub-2k relative to the repository root; each
sub-folder NAME holds NAME_2k.log_structured_corrected.csv (Content is mined, EventId is the
ground truth), so any other Loghub corpus in that layout can be measured the same way.

Both miners see the same lines in the same process. Each miner first mines the corpus once
untimed (this also gives the grouping accuracy, which does not depend on timing). Then N
rounds: in each round both miners mine the corpus once, each with a fresh miner, one right
after the other, the order swapping every round (A B, B A, A B, ...), so a change of the
machine's load hits both sides of a round alike. The ratio is taken per round (our lines/s
over drain3's in the same round) and reported as min / median / max over the rounds; the
lines/s columns are medians. The machine is shared, so the load average is printed before
and after each corpus. The last two columns time our miner on a second pass over lines it has
already seen (see steady_throughput), against drain3's median.

Our miner is the one `backline.patterns.engine` gives the application: the mypyc build that
`make install` puts into the venv (scripts/build_speedups.py) when it was built from today's
sources, else the pure Python modules; the first line of the output says which. --pure measures
the pure Python modules (as `BACKLINE_PURE_MINER=1` does).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Hashable
from operator import attrgetter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from drain3 import TemplateMiner as Drain3Miner  # noqa: E402
from drain3.template_miner_config import TemplateMinerConfig  # noqa: E402

from backline.patterns import engine, miner  # noqa: E402
from backline.patterns.engine import TemplateMiner, grouping_accuracy  # noqa: E402

Labeller = Callable[[list[str]], list[Hashable]]
# The miner measured: the engine's (the mypyc build when current), or pure Python (`--pure`).
Miner: type[TemplateMiner] = TemplateMiner


def load_corpus(folder: Path) -> tuple[list[str], list[str]]:
    """Return (contents, event ids) of one Loghub-2k corpus folder."""
    path = next(folder.glob("*_structured_corrected.csv"))
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["Content"] for row in rows], [row["EventId"] for row in rows]


def label_ours(lines: list[str]) -> list[Hashable]:
    """Mine with our miner; labels are each line's group as it stands at the end.

    `add_many` is the batch path of `mine_lines` and the same work as `add` line by line (one
    result per line, in order); drain3 has no batch call, so it gets `add_log_message` per line.
    """
    miner = Miner()
    return list(miner.resolve_many(map(attrgetter("template_id"), miner.add_many(lines))))


def label_drain3(lines: list[str]) -> list[Hashable]:
    """Mine with drain3's defaults; its cluster ids never merge, so add-time ids are final."""
    miner = Drain3Miner(config=TemplateMinerConfig())
    return [miner.add_log_message(line)["cluster_id"] for line in lines]


def throughput(run: Labeller, lines: list[str]) -> float:
    """Lines per second of one timed run with a fresh miner."""
    start = time.perf_counter()
    run(lines)
    return len(lines) / (time.perf_counter() - start)


def steady_throughput(lines: list[str]) -> float:
    """Lines per second of our miner on a second pass over lines it has already seen.

    This is the long-running ingest case: the memos of masking and routing are warm. drain3
    has no such memo, so its fresh-run figure stands for its steady state too.
    """
    miner = Miner()
    miner.add_many(lines)
    start = time.perf_counter()
    miner.add_many(lines)
    return len(lines) / (time.perf_counter() - start)


def load() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}"


def rounds(lines: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Lines/s of ours and of drain3 in each of `repeat` paired rounds (order alternating)."""
    ours: list[float] = []
    drain: list[float] = []
    for i in range(repeat):
        if i % 2 == 0:
            ours.append(throughput(label_ours, lines))
            drain.append(throughput(label_drain3, lines))
        else:
            drain.append(throughput(label_drain3, lines))
            ours.append(throughput(label_ours, lines))
    return ours, drain


def main(argv: list[str] | None = None) -> int:
    global Miner
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "corpora", nargs="?", type=Path, default=REPO.parent / "shared/benchdata/loghub-2k"
    )
    parser.add_argument("--repeat", type=int, default=9, help="paired timed rounds (>= 5)")
    parser.add_argument("--pure", action="store_true", help="measure the pure Python miner")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    folders = sorted(p for p in args.corpora.iterdir() if p.is_dir())
    if not folders:
        parser.error(f"no corpus folders in {args.corpora}")

    if args.pure:
        Miner = miner.TemplateMiner
    return run(folders, args.repeat, describe(Miner))


def describe(chosen: type[TemplateMiner]) -> str:
    """Which build `chosen` is, checked on the class itself rather than taken from a flag."""
    if chosen is miner.TemplateMiner:
        return "pure Python" + ("" if not engine.COMPILED else " (--pure)")
    return f"mypyc build ({chosen.__module__}, sources {engine.source_hash()[:12]})"


def run(folders: list[Path], repeat: int, build: str) -> int:
    """Measure every corpus folder and print the table."""
    print(f"# {machine()}; {repeat} paired rounds per corpus; our miner: {build}")
    header = (
        "corpus",
        "lines",
        "GA ours",
        "GA drain3",
        "lines/s ours",
        "lines/s drain3",
        "ratio min / median / max",
        "lines/s ours, seen lines",
        "ratio, seen lines",
        "load before / after",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    summary: list[tuple[float, float, float, float, float, float, float, float]] = []
    for folder in folders:
        lines, truth = load_corpus(folder)
        before = load()
        ga_ours = grouping_accuracy(truth, label_ours(lines))
        ga_drain = grouping_accuracy(truth, label_drain3(lines))
        ours, drain = rounds(lines, repeat)
        ratios = [a / b for a, b in zip(ours, drain, strict=True)]
        steady = statistics.median(steady_throughput(lines) for _ in range(repeat))
        median_drain = statistics.median(drain)
        row = (
            ga_ours,
            ga_drain,
            statistics.median(ours),
            median_drain,
            min(ratios),
            statistics.median(ratios),
            max(ratios),
            steady,
        )
        summary.append(row)
        print(
            f"| {folder.name} | {len(lines)} | {_cells(row)} {steady / median_drain:.2f}x | "
            f"{before} / {load()} |"
        )
    averages = [statistics.fmean(column) for column in zip(*summary, strict=True)]
    print(f"| average | | {_cells(averages)} {averages[7] / averages[3]:.2f}x | |")
    return 0


def _cells(row: tuple[float, ...] | list[float]) -> str:
    ga_ours, ga_drain, ours, drain, low, mid, high, steady = row
    return (
        f"{ga_ours:.3f} | {ga_drain:.3f} | {ours:,.0f} | {drain:,.0f} | "
        f"{low:.2f}x / {mid:.2f}x / {high:.2f}x | {steady:,.0f} |"
    )


if __name__ == "__main__":
    sys.exit(main())
