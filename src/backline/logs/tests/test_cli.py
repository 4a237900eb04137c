"""``backline logs import|query|prune`` and ``backline simulate``."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from backline.logs.importer import run_import
from backline.logs.services import get_store
from backline.logs.tests.conftest import event, write_lines


def _import(paths: list[Path]) -> tuple[int, str, str]:
    err, out = io.StringIO(), io.StringIO()
    report = run_import(get_store(), paths, err=err, out=out)
    return report.exit_code, err.getvalue(), out.getvalue()


def test_import_exit_codes_and_bad_lines(var_dir: Path) -> None:
    good = write_lines(var_dir / "good.jsonl", [event("2025-01-06T05:00:00Z")])
    assert _import([good])[0] == 0

    mixed = var_dir / "mixed.jsonl"
    mixed.write_text(json.dumps(event("2025-01-06T05:00:00Z")) + "\nnot json\n")
    code, err, out = _import([mixed])
    assert code == 1
    assert f"{mixed}:2: not valid JSON" in err
    assert "Imported 1 events" in out

    code, err, _ = _import([var_dir / "missing.jsonl"])
    assert code == 2 and "cannot read" in err
    junk = var_dir / "junk.jsonl"
    junk.write_text("junk\n")
    assert _import([junk])[0] == 2


def test_logs_import_command_exits_with_the_report_code(var_dir: Path) -> None:
    bad = var_dir / "bad.jsonl"
    bad.write_text("{oops\n" + json.dumps(event("2025-01-06T05:00:00Z")) + "\n")
    with pytest.raises(SystemExit) as exited:
        call_command("logs", "import", str(bad), "--no-progress", stdout=io.StringIO())
    assert exited.value.code == 1


def test_logs_query_prints_a_table_or_json(var_dir: Path) -> None:
    now = datetime.now(UTC)
    lines = [event((now - timedelta(minutes=m)).isoformat(), f"msg {m}") for m in range(3)]
    call_command("logs", "import", str(write_lines(var_dir / "q.jsonl", lines)), "--no-progress")
    out = io.StringIO()
    call_command("logs", "query", "msg", "--from", "now-1h", "--limit", "2", stdout=out)
    text = out.getvalue()
    assert text.splitlines()[0].split() == [
        "ts",
        "status",
        "service",
        "user_id",
        "error_code",
        "message",
    ]
    assert "2 event(s) (more)" in text
    out = io.StringIO()
    call_command("logs", "query", '"msg 1"', "--from", "now-1h", "--json", stdout=out)
    assert [json.loads(line)["message"] for line in out.getvalue().splitlines()] == ["msg 1"]
    with pytest.raises(CommandError, match="position"):
        call_command("logs", "query", "service:(x", "--from", "now-1h")


def test_logs_prune_applies_retention(var_dir: Path, settings: Any) -> None:
    now = datetime.now(UTC)
    lines = [
        event((now - timedelta(days=40)).isoformat(), "old"),
        event((now - timedelta(days=1)).isoformat(), "recent"),
    ]
    call_command("logs", "import", str(write_lines(var_dir / "r.jsonl", lines)), "--no-progress")
    settings.BACKLINE_LOG_RETENTION_DAYS = 30
    out = io.StringIO()
    call_command("logs", "prune", stdout=out)
    assert "Deleted 1 event(s)" in out.getvalue()
    assert get_store().count() == 1


@pytest.mark.django_db
def test_logs_key_create_prints_a_working_secret(var_dir: Path) -> None:
    from backline.logs.services import ingest_key_check

    out = io.StringIO()
    call_command("logs", "key", "create", "vector", stdout=out)
    secret = out.getvalue().splitlines()[-1]
    assert ingest_key_check(secret) is not None
    with pytest.raises(CommandError, match="exists"):
        call_command("logs", "key", "create", "vector")


def test_simulate_to_a_file_and_into_the_store(var_dir: Path) -> None:
    target = var_dir / "sim.jsonl"
    args = ["--seed", "3", "--days", "0.02", "--users", "50", "--rate", "5"]
    call_command("simulate", *args, "--out", str(target), stdout=io.StringIO())
    lines = target.read_text().splitlines()
    assert lines and all(json.loads(line)["timestamp"] for line in lines)
    call_command("simulate", *args, "--store", stdout=io.StringIO())
    assert get_store().count() == len(lines)
