"""``backline logs import|query|prune`` and ``backline simulate``."""

from __future__ import annotations

import getpass
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from backline.audit.masking import log_redactor
from backline.audit.models import AuditEvent
from backline.logs.importer import run_import
from backline.logs.services import get_store
from backline.logs.tests.conftest import event, write_lines
from backline.patterns.models import Template


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


@pytest.mark.django_db
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
    # Each successful query left an audit row: no Backline actor, the OS user as the reason.
    rows = AuditEvent.objects.filter(action="logs.search").order_by("at", "pk")
    assert [(r.actor, r.reason, r.query, r.result_count, r.unmasked) for r in rows] == [
        (None, f"cli:{getpass.getuser()}", "msg", 2, True),
        (None, f"cli:{getpass.getuser()}", '"msg 1"', 1, True),
    ]


@pytest.mark.django_db
def test_logs_query_as_a_backline_user_uses_their_permission_and_masking(
    var_dir: Path, sam: Any, tina: Any
) -> None:
    icn = "1012345678V123456"
    line = event(datetime.now(UTC).isoformat(), f"lookup for {icn}", payload={"icn": icn})
    call_command("logs", "import", str(write_lines(var_dir / "m.jsonl", [line])), "--no-progress")
    out = io.StringIO()
    call_command("logs", "query", "", "--from", "now-1h", "--json", "--as", "sam", stdout=out)
    shown = json.loads(out.getvalue())
    token = log_redactor().token("ICN", icn)
    assert (shown["message"], shown["attrs"]["payload"]["icn"]) == (f"lookup for {token}", token)
    row = AuditEvent.objects.get(action="logs.search")
    assert (row.actor, row.unmasked, row.result_count) == (sam, False, 1)
    with pytest.raises(CommandError, match="not allow"):
        call_command("logs", "query", "", "--as", "tina")
    with pytest.raises(CommandError, match="No active Backline user"):
        call_command("logs", "query", "", "--as", "nobody-here")
    assert AuditEvent.objects.filter(action="logs.search").count() == 1


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


@pytest.mark.django_db
def test_simulate_to_a_file_and_into_the_store(var_dir: Path) -> None:
    target = var_dir / "sim.jsonl"
    args = ["--seed", "3", "--days", "0.02", "--users", "50", "--rate", "5"]
    call_command("simulate", *args, "--out", str(target), stdout=io.StringIO())
    lines = target.read_text().splitlines()
    assert lines and all(json.loads(line)["timestamp"] for line in lines)
    call_command("simulate", *args, "--store", stdout=io.StringIO())
    assert get_store().count() == len(lines)
    # Warn-and-above events carry the miner's template id; the others none.
    with get_store().read() as cursor:
        counts = cursor.execute(
            "SELECT status IN ('error', 'warn', 'critical'), count(*), count(signature) "
            "FROM events GROUP BY 1"
        ).fetchall()
    by_kind = {bool(row[0]): (row[1], row[2]) for row in counts}
    assert by_kind[True][0] > 0 and by_kind[True][0] == by_kind[True][1]
    assert by_kind[False][1] == 0
    assert Template.objects.exists()


@pytest.mark.django_db
def test_logs_import_signs_errors_unless_told_not_to(var_dir: Path) -> None:
    ts = "2025-01-06T05:00:00Z"
    lines = [event(ts, "RX139 refill failed for rx 12345678", status="error"), event(ts, "ok")]
    path = write_lines(var_dir / "sig.jsonl", lines)
    call_command("logs", "import", str(path), "--no-progress", "--no-signatures")
    call_command("logs", "import", str(path), "--no-progress", stdout=io.StringIO())
    with get_store().read() as cursor:
        rows = cursor.execute("SELECT status, signature FROM events ORDER BY rowid").fetchall()
    assert [(status, signature is not None) for status, signature in rows] == [
        ("error", False),
        ("info", False),
        ("error", True),
        ("info", False),
    ]
    assert Template.objects.filter(template_id=rows[2][1]).exists()
