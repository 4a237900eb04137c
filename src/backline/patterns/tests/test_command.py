"""`backline patterns mine` run as a real process, the way operators and benchmarks run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LINES = ["disk 3 full", "user cyrus left", "disk 4 full", "user news left", "user root left"]


def _run(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"BACKLINE_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "backline.cli", "patterns", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_mine_file_prints_final_groups_in_input_order(tmp_path: Path) -> None:
    source = tmp_path / "app.log"
    source.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    done = _run(["mine", str(source)], tmp_path)
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert [template for _, template in rows] == [
        "disk <*> full",
        "user <*> left",
        "disk <*> full",
        "user <*> left",
        "user <*> left",
    ]
    assert rows[0][0] == rows[2][0] != rows[1][0] == rows[3][0] == rows[4][0]
    # No database was created for it.
    assert not (tmp_path / "var" / "backline.sqlite3").exists()


def test_mine_stdin_as_json(tmp_path: Path) -> None:
    done = _run(["mine", "-", "--json"], tmp_path, stdin="\n".join(LINES[:3]) + "\n")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["line"] for r in records] == LINES[:3]
    assert records[0]["template_id"] == records[2]["template_id"]
    assert records[1]["template"] == "user cyrus left"


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    done = _run(["mine", str(tmp_path / "missing.log")], tmp_path)
    assert done.returncode == 2
    assert "cannot read" in done.stderr and "missing.log" in done.stderr
    assert done.stdout == ""
