"""The store: ingest through DuckDB's JSON reader, lifted columns, attrs, bad lines, retention."""

from __future__ import annotations

import gzip
import json
import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from backline.logs.ingest import canonicalise_statuses, import_file, load_spooled
from backline.logs.schema import STATUS_LEVELS, canonical_status
from backline.logs.store import LogStore, open_store
from backline.logs.tests.conftest import event, write_lines


def _rows(store: LogStore, sql: str) -> list[tuple[Any, ...]]:
    with store.read() as cursor:
        return cursor.execute(sql).fetchall()


def test_columns_are_lifted_from_nested_paths_and_attrs_keeps_the_event_as_it_arrived(
    store: LogStore, tmp_path: Path
) -> None:
    line = event(
        "2025-01-06T05:00:00.393Z",
        "Completed GET /v0/user 200",
        user_uuid="u-1",
        named_tags={"request_id": "r-1", "ref": "abc"},
        dd={"trace_id": "t-1"},
        http={"method": "GET", "url_details": {"path": "/v0/user"}, "status_code": 200},
        duration_ms=12.5,
        facility="648",
        error_code="RX139",
        payload={"icn": "1012345678V123456"},
        route="/v0/user",
    )
    result = import_file(store, write_lines(tmp_path / "a.jsonl", [line]))
    assert result.events == 1 and result.bad == []
    row = _rows(
        store,
        "SELECT ts, user_id, request_id, trace_id, http_method, path, status_code, duration_ms,"
        " facility, error_code, attrs FROM events",
    )[0]
    assert row[:10] == (
        datetime(2025, 1, 6, 5, 0, 0, 393000),
        "u-1",
        "r-1",
        "t-1",
        "GET",
        "/v0/user",
        200,
        12.5,
        "648",
        "RX139",
    )
    # The whole event, lifted fields included (as Datadog's attributes keep them): storing the
    # line unchanged is what makes the ingest fast, and nothing can be lost on the way.
    assert json.loads(str(row[10])) == line


def test_timestamps_with_offsets_epoch_millis_and_fallback_paths(
    store: LogStore, tmp_path: Path
) -> None:
    lines = [
        {"timestamp": "2025-01-06T00:00:00-05:00", "message": "offset"},
        {"timestamp": 1736139600000, "message": "epoch ms"},
        {"date": "2025-01-06T05:00:00Z", "msg": "date and msg", "hostname": "web-1"},
    ]
    import_file(store, write_lines(tmp_path / "t.jsonl", lines))
    rows = _rows(store, "SELECT ts, message, host, attrs FROM events ORDER BY message")
    assert {r[0] for r in rows} == {datetime(2025, 1, 6, 5, 0)}
    by_message = {r[1]: r for r in rows}
    assert by_message["date and msg"][2] == "web-1"
    # A value read from a later path stays in attrs too: nothing is lost.
    assert json.loads(str(by_message["date and msg"][3]))["hostname"] == "web-1"


def test_bad_lines_are_named_with_file_and_line_and_good_lines_still_load(
    store: LogStore, tmp_path: Path
) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        json.dumps(event("2025-01-06T05:00:00Z", "one"))
        + "\n{not json\n[1, 2]\n\n"
        + json.dumps({"message": "no time"})
        + "\n"
        + json.dumps(event("yesterday-ish", "bad time"))
        + "\n"
        + json.dumps(event("2025-01-06T05:00:01Z", "two"))
        + "\n"
    )
    result = import_file(store, path, display_name="mixed.jsonl")
    assert result.events == 2
    assert [(b.line, b.reason.split(" ")[0]) for b in result.bad] == [
        (2, "not"),
        (3, "not"),
        (5, "no"),
        (6, "timestamp"),
    ]
    assert str(result.bad[0]).startswith("mixed.jsonl:2: not valid JSON")
    assert "not a JSON object" in str(result.bad[1])
    assert sorted(r[0] for r in _rows(store, "SELECT message FROM events")) == ["one", "two"]


def test_datadog_archive_gzip_is_read(store: LogStore, tmp_path: Path) -> None:
    path = tmp_path / "archive.json.gz"
    with gzip.open(path, "wt") as out:
        for second in range(3):
            out.write(json.dumps(event(f"2025-01-06T05:00:0{second}Z")) + "\n")
    assert import_file(store, path).events == 3


def test_signature_hook_signs_warn_and_above_once_per_distinct_message(
    store: LogStore, tmp_path: Path
) -> None:
    calls: list[list[str]] = []

    def hook(messages: list[str]) -> list[str]:
        calls.append(sorted(messages))
        return ["sig-" + m.split(" ")[0] for m in messages]

    lines = [
        event("2025-01-06T05:00:00Z", "RX139 failed", status="ERROR"),
        event("2025-01-06T05:00:01Z", "RX139 failed", status="error"),
        event("2025-01-06T05:00:02Z", "slow upstream", status="warning"),
        event("2025-01-06T05:00:03Z", "disk gone", status="crit"),
        event("2025-01-06T05:00:04Z", "ok"),
    ]
    import_file(store, write_lines(tmp_path / "s.jsonl", lines), signature_hook=hook)
    assert calls == [["RX139 failed", "disk gone", "slow upstream"]]
    assert sorted(_rows(store, "SELECT message, status, signature FROM events")) == [
        ("RX139 failed", "error", "sig-RX139"),
        ("RX139 failed", "error", "sig-RX139"),
        ("disk gone", "critical", "sig-disk"),
        ("ok", "info", None),
        ("slow upstream", "warn", "sig-slow"),
    ]

    # A later load signs only its own rows: events imported without signatures stay unsigned.
    import_file(
        store,
        write_lines(tmp_path / "u.jsonl", [event("2025-01-07T00:00:00Z", "x y", status="error")]),
    )
    import_file(
        store,
        write_lines(tmp_path / "t.jsonl", [event("2025-01-08T00:00:00Z", "z w", status="error")]),
        signature_hook=hook,
    )
    assert calls[-1] == ["z w"]
    assert _rows(
        store, "SELECT message, signature FROM events WHERE ts >= '2025-01-07' ORDER BY ts"
    ) == [
        ("x y", None),
        ("z w", "sig-z"),
    ]


def test_a_failing_signature_hook_loads_nothing(store: LogStore, tmp_path: Path) -> None:
    def broken(messages: list[str]) -> list[str]:
        raise RuntimeError("miner unavailable")

    lines = [
        event("2025-01-06T05:00:00Z", "RX139 failed", status="error"),
        event("2025-01-06T05:00:01Z"),
    ]
    with pytest.raises(RuntimeError):
        import_file(store, write_lines(tmp_path / "f.jsonl", lines), signature_hook=broken)
    spool = tmp_path / "spool"
    spool.mkdir()
    payload = write_lines(spool / "p.jsonl", lines)
    with pytest.raises(RuntimeError):
        load_spooled(store, [payload], signature_hook=broken)
    assert store.count() == 0
    assert payload.exists()  # still waiting: the next flush loads (and signs) it
    assert load_spooled(store, [payload], signature_hook=lambda ms: ["sig"] * len(ms)) == 2
    assert _rows(store, "SELECT message, signature FROM events ORDER BY ts") == [
        ("RX139 failed", "sig"),
        ("hello", None),
    ]


def test_status_is_stored_canonical_and_the_raw_spelling_kept(
    store: LogStore, tmp_path: Path
) -> None:
    raw = ["ERROR", "err", "3", "warning", "Info", "info", "bogus", None, 7]
    lines = [
        {"timestamp": f"2025-01-06T05:00:0{i}Z", "message": f"m{i}", "status": status}
        for i, status in enumerate(raw)
    ]
    lines.append({"timestamp": "2025-01-06T05:00:10Z", "message": "m10", "level": "FATAL"})
    import_file(store, write_lines(tmp_path / "st.jsonl", lines))
    rows = _rows(
        store, "SELECT message, status, json_extract_string(attrs, '$.raw_status') FROM events"
    )
    assert sorted(rows, key=lambda row: int(row[0][1:])) == [
        ("m0", "error", "ERROR"),
        ("m1", "error", "err"),
        ("m2", "error", "3"),
        ("m3", "warn", "warning"),
        ("m4", "info", "Info"),
        ("m5", "info", None),
        ("m6", "info", "bogus"),  # Datadog's fallback
        ("m7", None, None),  # no status: none is invented
        ("m8", "debug", "7"),  # a syslog severity sent as a number
        ("m10", "emergency", "FATAL"),
    ]


def test_the_status_column_agrees_with_the_python_remapper_for_every_spelling(
    store: LogStore, tmp_path: Path
) -> None:
    # Canonical levels take a shortcut in SQL; every other spelling goes through the remapper.
    levels = [level for level, _ in STATUS_LEVELS]
    spellings = [
        *levels,
        *(level.upper() for level in levels),
        *(f" {level} " for level in levels),
        *(level[:3] for level in levels),
        *"01234567",
        "8",
        "Warning",
        "FATAL",
        "trace",
        "success",
        "",
        "?",
        "informational",
    ]
    lines = [
        {"timestamp": "2025-01-06T05:00:00Z", "message": str(number), "status": spelling}
        for number, spelling in enumerate(spellings)
    ]
    import_file(store, write_lines(tmp_path / "levels.jsonl", lines))
    stored = {
        int(str(message)): (status, raw)
        for message, status, raw in _rows(
            store, "SELECT message, status, json_extract_string(attrs, '$.raw_status') FROM events"
        )
    }
    expected = {
        number: (
            canonical_status(spelling),
            None if canonical_status(spelling) == spelling else spelling,
        )
        for number, spelling in enumerate(spellings)
    }
    assert stored == expected


def test_a_store_written_before_canonical_statuses_is_migrated(
    store: LogStore, tmp_path: Path
) -> None:
    lines = [event(f"2025-01-06T05:00:0{i}Z", f"m{i}") for i in range(3)]
    import_file(store, write_lines(tmp_path / "old.jsonl", lines))
    with store.write() as connection:  # what an older ingest stored: the raw spelling
        connection.execute("UPDATE events SET status = 'ERROR' WHERE message = 'm0'")
        connection.execute("UPDATE events SET status = '4' WHERE message = 'm1'")
    assert canonicalise_statuses(store) == 2
    assert canonicalise_statuses(store) == 0
    rows = _rows(
        store,
        "SELECT message, status, json_extract_string(attrs, '$.raw_status') FROM events",
    )
    assert sorted(rows) == [("m0", "error", "ERROR"), ("m1", "warn", "4"), ("m2", "info", None)]


def test_spool_files_load_exactly_once(store: LogStore, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    first = write_lines(spool / "a.jsonl", [event("2025-01-06T05:00:00Z")])
    assert load_spooled(store, [first]) == 1
    # The same file appearing again (a crash after commit, before unlink) is not loaded twice.
    again = write_lines(spool / "a.jsonl", [event("2025-01-06T05:00:00Z")])
    assert load_spooled(store, [again]) == 0
    assert store.count() == 1
    assert not again.exists()


def test_prune_deletes_only_events_before_the_cutoff(store: LogStore, tmp_path: Path) -> None:
    lines = [event("2025-01-01T00:00:00Z", "old"), event("2025-01-10T00:00:00Z", "new")]
    import_file(store, write_lines(tmp_path / "p.jsonl", lines))
    assert store.prune(before=datetime(2025, 1, 5, tzinfo=UTC)) == 1
    assert _rows(store, "SELECT message FROM events") == [("new",)]


def _reader(path: str, started: multiprocessing.synchronize.Event, seconds: float) -> None:
    reader = open_store(path, poll_seconds=0.02)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reader.count()
        started.set()
        time.sleep(0.01)


def test_a_writer_gets_in_while_another_process_keeps_reading(
    store: LogStore, tmp_path: Path
) -> None:
    """A reader process that holds its connection lets go when a writer announces itself."""
    context = multiprocessing.get_context("spawn")
    started = context.Event()
    child = context.Process(target=_reader, args=(str(store.path), started, 4.0))
    child.start()
    try:
        assert started.wait(30)
        began = time.monotonic()
        import_file(store, write_lines(tmp_path / "w.jsonl", [event("2025-01-06T05:00:00Z")]))
        waited = time.monotonic() - began
    finally:
        child.join(30)
    assert child.exitcode == 0
    assert waited < 3.0
    assert store.count() == 1
