"""The miner chooser: the mypyc build gives exactly the pure module's results, stale builds are
ignored, `BACKLINE_PURE_MINER` forces pure Python, and saved states cross between the builds."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import logging
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from backline.logs.simulate import SimulationConfig, all_scenarios, iter_lines
from backline.patterns import engine
from backline.patterns import miner as pure

REPO = Path(engine.__file__).resolve().parents[3]
BUILD_SCRIPT = REPO / "scripts" / "build_speedups.py"


# ---- the lines both builds mine ------------------------------------------------------------


def _simulated() -> list[tuple[str, datetime]]:
    """Messages and times of half a simulated day with every scenario in it (about 7,400)."""
    config = SimulationConfig(
        seed=7, days=0.5, users=200, events_per_second=0.2, scenarios=all_scenarios()
    )
    events = (json.loads(line) for line in iter_lines(config))
    return [
        (event["message"], datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00")))
        for event in events
    ]


_ODD_TOKENS = [
    *("open", "close", "user", "root", "cyrus", "news", "session", "for", "failed", "ok"),
    *("tty2", "RX139", "MVI_503", "SOCKS5", "x=3", "uid=0", "'dob'", "(1)", "[42]", "<*>"),
    *("10.0.0.1:80", "fe80::1", "a3f9c01b2e", "blk_-1727475099218615100", "0x7ffd3a2c"),
    *("/api/v1/refills", "msra-sa-41/10.0.0.7", "https://host.example/x?id=7", "jane@example.org"),
    *("2024-03-10T02:30:00Z", "Jun", "17", "07:07:00", "523ms", "1.16", "KB", "part-00590."),
    *("é", "ünïcode", "中文", "\udcff", "", "a\tb", "-", "--", ":", "=", "''"),
]


def _odd_lines(rnd: random.Random, count: int) -> list[str]:
    """Hand-made lines: values, codes, paths, odd characters, tabs and runs of blanks."""
    lines = ["", " ", "\t", "  two  blanks  ", "<*>", "<*> <*>", "x" * 300, "1 2 3 4 5 6 7 8 9"]
    for _ in range(count):
        words = [rnd.choice(_ODD_TOKENS) for _ in range(rnd.randint(1, 9))]
        lines.append(rnd.choice([" ", "  ", "\t"]).join(words))
    return lines


def _with_other_digits(rnd: random.Random, line: str) -> str:
    return "".join(rnd.choice("0123456789") if c.isdigit() else c for c in line)


@pytest.fixture(scope="module")
def stream() -> list[tuple[str, datetime | None]]:
    """A few thousand varied lines, some with times: simulated, mutated and hand-made."""
    rnd = random.Random(11)
    simulated = _simulated()
    lines: list[tuple[str, datetime | None]] = list(simulated)
    lines += [(_with_other_digits(rnd, m), None) for m, _ in rnd.sample(simulated, 1500)]
    lines += [(line, None) for line in _odd_lines(rnd, 1500)]
    lines += [(line, at) for (line, _), (_, at) in zip(lines[-800:], simulated, strict=False)]
    rnd.shuffle(lines)
    return lines


@pytest.fixture(scope="module")
def compiled() -> ModuleType:
    """The installed mypyc build of today's sources, or a skip saying why there is none."""
    if importlib.util.find_spec(engine.SPEEDUPS) is None:
        pytest.skip(
            "backline_speedups is not installed: `make install` builds it (needs a C compiler)"
        )
    package = importlib.import_module(engine.SPEEDUPS)
    if engine.source_hash() != package.SOURCE_HASH:
        pytest.skip("backline_speedups was built from other sources: run `make install`")
    module = engine.choose_miner(pure_only=False)
    assert module is not pure
    assert str(module.__file__).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
    return module


def _mine(module: ModuleType, lines: list[tuple[str, datetime | None]], **options: Any) -> Any:
    """Everything a miner shows after `lines`, as plain data (the builds' classes differ)."""
    miner = module.TemplateMiner(**options)
    adds = [tuple(miner.add(line, at=at)) for line, at in lines]
    probes = [line for line, _ in lines[::97]] + ["never seen before 42", ""]
    return {
        "adds": adds,
        "resolved": miner.resolve_many(match[0] for match in adds),
        "templates": miner.templates(),
        "state": json.dumps(miner.to_state(), ensure_ascii=False),
        "match": [None if m is None else tuple(m) for m in map(miner.match, probes)],
        "mine_lines": list(module.mine_lines(line for line, _ in lines)),
    }


# ---- the compiled build --------------------------------------------------------------------


def test_engine_gives_the_compiled_build_unless_told_not_to(compiled: ModuleType) -> None:
    forced = os.environ.get(engine.PURE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
    assert engine.COMPILED is not forced
    assert engine.TemplateMiner is (pure if forced else compiled).TemplateMiner
    assert engine.mine_lines is (pure if forced else compiled).mine_lines


@pytest.mark.parametrize(
    "options", [{}, {"similarity": 0.4, "merge_after": 2}, {"similarity": 0.9, "merge_after": 5}]
)
def test_compiled_build_gives_byte_identical_results(
    compiled: ModuleType, stream: list[tuple[str, datetime | None]], options: dict[str, Any]
) -> None:
    ours, theirs = _mine(compiled, stream, **options), _mine(pure, stream, **options)
    assert len(ours["adds"]) > 10_000 and len(ours["templates"]) > 100
    for key in ours:
        assert ours[key] == theirs[key], key


def test_batch_calls_equal_line_by_line_in_both_builds(
    compiled: ModuleType, stream: list[tuple[str, datetime | None]]
) -> None:
    # `signatures_for` and the simulator store's hook call `add_many` and `resolve_many`.
    lines = [line for line, _ in stream]
    at = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
    for module in (pure, compiled):
        batch, single = module.TemplateMiner(), module.TemplateMiner()
        batched = batch.add_many(lines, at=at)
        one_by_one = [single.add(line, at=at) for line in lines]
        assert batched == one_by_one
        ids = [match.template_id for match in batched]
        assert batch.resolve_many(ids) == [single.resolve(i) for i in ids]
        assert batch.to_state() == single.to_state()


def test_state_saved_by_one_build_loads_in_the_other(
    compiled: ModuleType, stream: list[tuple[str, datetime | None]]
) -> None:
    first, rest = stream[:6000], stream[6000:]
    for saver, loader in ((pure, compiled), (compiled, pure)):
        miner = saver.TemplateMiner()
        for line, at in first:
            miner.add(line, at=at)
        state = json.loads(json.dumps(miner.to_state()))  # as the database keeps it
        loaded = loader.TemplateMiner.from_state(state)
        carried_on = saver.TemplateMiner.from_state(state)
        assert loaded.to_state() == miner.to_state()
        for line, at in rest:
            assert tuple(loaded.add(line, at=at)) == tuple(carried_on.add(line, at=at))
        assert loaded.to_state() == carried_on.to_state()


def test_stale_build_is_ignored_with_a_warning(
    compiled: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger=engine.__name__):
        chosen = engine.choose_miner(pure_only=False, current_hash="0" * 64)
    assert chosen is pure
    assert "make install" in caplog.text
    assert engine.choose_miner(pure_only=False, current_hash=engine.source_hash()) is compiled


# ---- the chooser, without the build --------------------------------------------------------


class _Loader:
    """Stands in for `importlib.import_module`: a speed-up package of a given hash, or none."""

    def __init__(self, source_hash: str | None, *, miner_imports: bool = True) -> None:
        self.source_hash = source_hash
        self.miner_imports = miner_imports
        self.miner = ModuleType("backline_speedups.miner")
        self.asked: list[str] = []

    def __call__(self, name: str) -> Any:
        self.asked.append(name)
        if self.source_hash is None or (name.endswith(".miner") and not self.miner_imports):
            raise ImportError(name)
        if name.endswith(".miner"):
            return self.miner
        return SimpleNamespace(SOURCE_HASH=self.source_hash)


def test_chooser_takes_a_build_of_todays_sources() -> None:
    loader = _Loader("abc")
    assert engine.choose_miner(pure_only=False, current_hash="abc", load=loader) is loader.miner
    assert loader.asked == ["backline_speedups", "backline_speedups.miner"]


def test_chooser_ignores_a_build_of_other_sources(caplog: pytest.LogCaptureFixture) -> None:
    loader = _Loader("abc")
    with caplog.at_level(logging.WARNING, logger=engine.__name__):
        chosen = engine.choose_miner(pure_only=False, current_hash="abd", load=loader)
    assert chosen is pure
    assert loader.asked == ["backline_speedups"]  # the stale extension is never imported
    (record,) = caplog.records
    assert "other sources" in record.getMessage() and "make install" in record.getMessage()


def test_chooser_without_a_build_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=engine.__name__):
        assert engine.choose_miner(pure_only=False, current_hash="abc", load=_Loader(None)) is pure
    assert not caplog.records


def test_chooser_falls_back_when_the_build_does_not_import(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loader = _Loader("abc", miner_imports=False)
    with caplog.at_level(logging.WARNING, logger=engine.__name__):
        assert engine.choose_miner(pure_only=False, current_hash="abc", load=loader) is pure
    assert "does not import" in caplog.text


@pytest.mark.parametrize("value", ["1", "true", "YES"])
def test_pure_miner_variable_forces_pure_python(
    value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    loader = _Loader("abc")
    monkeypatch.setenv(engine.PURE_ENV, value)
    assert engine.choose_miner(current_hash="abc", load=loader) is pure
    assert loader.asked == []
    monkeypatch.setenv(engine.PURE_ENV, "0")
    assert engine.choose_miner(current_hash="abc", load=loader) is loader.miner


def _compiled_in_a_new_process(pure_env: str | None) -> str:
    env = {k: v for k, v in os.environ.items() if k != engine.PURE_ENV}
    if pure_env is not None:
        env[engine.PURE_ENV] = pure_env
    code = "from backline.patterns import engine; print(engine.COMPILED)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_pure_miner_variable_is_read_at_import() -> None:
    assert _compiled_in_a_new_process("1") == "False"


def test_a_new_process_gets_the_compiled_build(compiled: ModuleType) -> None:
    assert _compiled_in_a_new_process(None) == "True"


# ---- the build script ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def build_script() -> Iterator[ModuleType]:
    if not BUILD_SCRIPT.is_file():
        pytest.skip("scripts/build_speedups.py is not in this tree (installed package)")
    spec = importlib.util.spec_from_file_location("build_speedups", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module


def test_build_script_stamps_the_hash_the_engine_checks(build_script: ModuleType) -> None:
    assert build_script.source_hash() == engine.source_hash()
    assert Path(engine.__file__).resolve().parent == build_script.SOURCES


def test_build_script_rewrites_the_one_masking_import(build_script: ModuleType) -> None:
    text = Path(pure.__file__).read_text(encoding="utf-8")
    rewritten = build_script.rewrite_miner(text)
    assert "from backline.patterns" not in rewritten
    assert rewritten.count("from backline_speedups.masking import") == 1
    assert rewritten.replace("backline_speedups.masking", "backline.patterns.masking") == text
    for wrong in ("no import here", text + "\nfrom backline.patterns.masking import mask\n"):
        with pytest.raises(build_script.BuildError, match="exactly once"):
            build_script.rewrite_miner(wrong)
