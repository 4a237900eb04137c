"""Start-up configuration: a wrong BACKLINE_* value stops the command with a message naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from backline import config


def run_backline(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BACKLINE_")}
    clean.update({"BACKLINE_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", "backline.cli", "check"],
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BACKLINE_TIME_ZONE", "Mars/Olympus", "BACKLINE_TIME_ZONE must be an IANA time zone"),
        ("BACKLINE_DEBUG", "perhaps", "BACKLINE_DEBUG must be true or false"),
        ("BACKLINE_DATABASE_URL", "mysql://x@y/z", "BACKLINE_DATABASE_URL"),
        ("BACKLINE_SECRET_KEY", "short", "BACKLINE_SECRET_KEY must be at least 32 characters"),
        ("BACKLINE_ALLOWED_HOSTS", " , ", "BACKLINE_ALLOWED_HOSTS must list at least one host"),
        ("BACKLINE_SESSION_SECONDS", "ten", "BACKLINE_SESSION_SECONDS must be a whole number"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = run_backline(tmp_path, **{variable: value})
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_good_configuration_passes_django_checks(tmp_path: Path) -> None:
    result = run_backline(tmp_path, BACKLINE_TIME_ZONE="Europe/Berlin")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_secret_key_is_generated_once_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKLINE_SECRET_KEY", raising=False)
    monkeypatch.setenv("BACKLINE_VAR_DIR", str(tmp_path))
    first = config.secret_key()
    assert len(first) >= 50
    assert config.secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_wal_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKLINE_DATABASE_URL", raising=False)
    monkeypatch.setenv("BACKLINE_VAR_DIR", str(tmp_path))
    db = config.database()
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert str(db["NAME"]).startswith(str(tmp_path))
    assert "journal_mode=WAL" in str(db["OPTIONS"])


def test_postgres_url_is_understood(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKLINE_DATABASE_URL", "postgres://u:p@db.internal:5432/backline")
    db = config.database()
    assert (db["ENGINE"], db["HOST"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        "backline",
    )
