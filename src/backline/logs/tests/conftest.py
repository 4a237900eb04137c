"""Fixtures for the logs app: a fresh store under tmp_path, never var/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backline.logs.store import LogStore, forget_store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LogStore]:
    path = tmp_path / "logs.duckdb"
    yield open_store(path)
    forget_store(path)


@pytest.fixture
def var_dir(tmp_path: Path, settings: Any) -> Iterator[Path]:
    """Point settings.VAR_DIR (and so the store and the spool) at a temporary folder."""
    settings.VAR_DIR = tmp_path
    yield tmp_path
    forget_store(tmp_path / "logs.duckdb")


def write_lines(path: Path, events: list[Any]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def event(ts: str, message: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"timestamp": ts, "service": "vets-api", "status": "info", "message": message, **extra}
