"""The one place that picks the template miner: the mypyc build if current, else pure Python.

`make install` compiles `masking.py` and `miner.py` with mypyc into a separate package,
`backline_speedups` (scripts/build_speedups.py), because the pure Python miner does not reach the
issue's 3x drain3 on every corpus and the compiled one does (docs/benchmarks.md). The two give the
same results and the same saved state (tests/test_engine.py), so callers import `TemplateMiner`,
`mine_lines` and `grouping_accuracy` from here and never need to know which one they got.

The compiled build is used only when its `SOURCE_HASH` equals the hash of the sources next to this
file: after an edit of `miner.py` or `masking.py` without `make install`, a stale build would hide
the edit, so it is ignored with one warning. `BACKLINE_PURE_MINER=1` forces pure Python.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Final

from backline.config import env_bool
from backline.patterns import miner as pure

__all__ = [
    "COMPILED",
    "PURE_ENV",
    "SPEEDUPS",
    "Match",
    "TemplateMiner",
    "choose_miner",
    "grouping_accuracy",
    "mine_lines",
    "source_hash",
]

logger = logging.getLogger(__name__)

PURE_ENV: Final = "BACKLINE_PURE_MINER"
SPEEDUPS: Final = "backline_speedups"
_SOURCES: Final = Path(__file__).resolve().parent
_MODULES: Final = ("masking.py", "miner.py")  # the order scripts/build_speedups.py hashes them


def source_hash(folder: Path = _SOURCES) -> str:
    """SHA-256 of masking.py's bytes then miner.py's, as `scripts/build_speedups.py` stamps it."""
    digest = hashlib.sha256()
    for name in _MODULES:
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


def choose_miner(
    *,
    pure_only: bool | None = None,
    current_hash: str | None = None,
    load: Callable[[str], ModuleType] = importlib.import_module,
) -> ModuleType:
    """Return the miner module to use: `backline_speedups.miner` if current, else `miner`.

    `pure_only` defaults to `BACKLINE_PURE_MINER`, `current_hash` to `source_hash()`. A build
    that is missing says nothing (it is optional); one that is stale or does not import logs
    one warning and is not used.
    """
    if pure_only is None:
        pure_only = env_bool(PURE_ENV, False)
    if pure_only:
        return pure
    try:
        package = load(SPEEDUPS)
    except ImportError:
        return pure
    built = getattr(package, "SOURCE_HASH", None)
    if current_hash is None:
        try:
            current_hash = source_hash()
        except OSError as exc:
            logger.warning("template miner: pure Python (cannot hash its sources: %s)", exc)
            return pure
    if built != current_hash:
        logger.warning(
            "template miner: ignoring %s, built from other sources than today's miner.py and "
            "masking.py; using pure Python (run make install to rebuild it)",
            SPEEDUPS,
        )
        return pure
    try:
        return load(f"{SPEEDUPS}.miner")
    except ImportError as exc:
        logger.warning("template miner: pure Python (%s does not import: %s)", SPEEDUPS, exc)
        return pure


_chosen: Final = choose_miner()

COMPILED: Final[bool] = _chosen is not pure
"""Whether the miner below is the mypyc build."""

if TYPE_CHECKING:
    # Both builds have this API; type checkers see the pure module's.
    from backline.patterns.miner import Match, TemplateMiner, grouping_accuracy, mine_lines
else:
    Match = _chosen.Match
    TemplateMiner = _chosen.TemplateMiner
    grouping_accuracy = _chosen.grouping_accuracy
    mine_lines = _chosen.mine_lines
