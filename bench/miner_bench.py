"""Template miner benchmark: grouping accuracy and throughput, ours against drain3.

Usage: .venv/bin/python bench/miner_bench.py [LOGHUB_2K_DIR] [--repeat N]

LOGHUB_2K_DIR defaults to ../shared/benchdata/loghub-2k relative to the repository root; each
sub-folder NAME holds NAME_2k.log_structured_corrected.csv (Content is mined, EventId is the
ground truth). Both miners see the same lines in the same process. Throughput is warm: each
miner first mines the corpus once untimed, then each timed run uses a fresh miner and the best
of N runs is kept (the two miners' runs alternate, so background load hits both alike).
Grouping accuracy does not depend on timing and is the same on every run. The last two
columns time our miner on a second pass over lines it has already seen (see steady_throughput).
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
from collections.abc import Callable, Hashable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from drain3 import TemplateMiner as Drain3Miner  # noqa: E402
from drain3.template_miner_config import TemplateMinerConfig  # noqa: E402

from backline.patterns.miner import TemplateMiner, grouping_accuracy  # noqa: E402

Labeller = Callable[[list[str]], list[Hashable]]


def load_corpus(folder: Path) -> tuple[list[str], list[str]]:
    """Return (contents, event ids) of one Loghub-2k corpus folder."""
    path = next(folder.glob("*_structured_corrected.csv"))
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["Content"] for row in rows], [row["EventId"] for row in rows]


def label_ours(lines: list[str]) -> list[Hashable]:
    """Mine with our miner; labels are each line's group as it stands at the end."""
    miner = TemplateMiner()
    ids = [miner.add(line).template_id for line in lines]
    return [miner.resolve(template_id) for template_id in ids]


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
    miner = TemplateMiner()
    for line in lines:
        miner.add(line)
    start = time.perf_counter()
    for line in lines:
        miner.add(line)
    return len(lines) / (time.perf_counter() - start)


def _cells(row: tuple[float, ...] | list[float]) -> str:
    ga_ours, ga_drain, ours, drain, ratio, steady, steady_ratio = row
    return (
        f"{ga_ours:.3f} | {ga_drain:.3f} | {ours:,.0f} | {drain:,.0f} | {ratio:.2f}x | "
        f"{steady:,.0f} | {steady_ratio:.2f}x |"
    )


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"{os.cpu_count()} CPUs, {cpu}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "corpora", nargs="?", type=Path, default=REPO.parent / "shared/benchdata/loghub-2k"
    )
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per miner (best kept)")
    args = parser.parse_args(argv)
    folders = sorted(p for p in args.corpora.iterdir() if p.is_dir())
    if not folders:
        parser.error(f"no corpus folders in {args.corpora}")

    print(f"# {machine()}")
    header = (
        "corpus",
        "lines",
        "GA ours",
        "GA drain3",
        "lines/s ours",
        "lines/s drain3",
        "ratio",
        "lines/s ours, seen lines",
        "ratio, seen lines",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    totals = [0.0] * 7
    for folder in folders:
        lines, truth = load_corpus(folder)
        ga_ours = grouping_accuracy(truth, label_ours(lines))
        ga_drain = grouping_accuracy(truth, label_drain3(lines))
        best_ours = best_drain = best_steady = 0.0
        for _ in range(args.repeat):
            best_ours = max(best_ours, throughput(label_ours, lines))
            best_drain = max(best_drain, throughput(label_drain3, lines))
            best_steady = max(best_steady, steady_throughput(lines))
        row = (
            ga_ours,
            ga_drain,
            best_ours,
            best_drain,
            best_ours / best_drain,
            best_steady,
            best_steady / best_drain,
        )
        for i, value in enumerate(row):
            totals[i] += value
        print(f"| {folder.name} | {len(lines)} | " + _cells(row))
    print("| average | | " + _cells([total / len(folders) for total in totals]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
