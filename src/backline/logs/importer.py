"""``backline logs import``: load JSON-lines files and Datadog archives, report every bad line.

Owns the command-line experience of an import: a progress bar on stderr, one ``file:line: reason``
per bad line, a summary, and the exit code (0 all good, 1 some lines bad, 2 nothing read).
Framework-free: takes the store and the streams as arguments.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from backline.logs.ingest import BadLine, SignatureHook, import_file
from backline.logs.store import LogStore

EXIT_OK = 0
EXIT_SOME_BAD = 1
EXIT_NOTHING_READ = 2


class Writer(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> None: ...


@dataclass
class ImportReport:
    events: int = 0
    files_read: int = 0
    bad: list[BadLine] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        if self.files_read == 0 or (self.events == 0 and (self.bad or self.unreadable)):
            return EXIT_NOTHING_READ
        if self.bad or self.unreadable:
            return EXIT_SOME_BAD
        return EXIT_OK


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(total, 1)
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total} bytes"


def run_import(
    store: LogStore,
    paths: Sequence[Path],
    *,
    err: Writer,
    out: Writer,
    signature_hook: SignatureHook | None = None,
    progress: bool = True,
) -> ImportReport:
    """Import ``paths`` in order; write bad lines and the progress to ``err``, the summary to ``out``.

    Progress advances per file (each file loads in one DuckDB statement); the bar counts bytes
    so a big file moves it proportionally.
    """
    report = ImportReport()
    began = time.perf_counter()
    sizes = {}
    for path in paths:
        try:
            sizes[path] = path.stat().st_size
        except OSError:
            sizes[path] = 0
    total = sum(sizes.values())
    done = 0
    for path in paths:
        if progress:
            err.write(f"\r{_bar(done, total)} loading {path.name}")
            err.flush()
        try:
            result = import_file(store, path, signature_hook=signature_hook)
        except OSError as exc:
            report.unreadable.append(f"{path}: cannot read ({exc.strerror or exc})")
            done += sizes[path]
            continue
        report.files_read += 1
        report.events += result.events
        report.bad.extend(result.bad)
        done += sizes[path]
    report.seconds = time.perf_counter() - began
    if progress:
        err.write(f"\r{_bar(total, total)}{' ' * 40}\n")
    for problem in report.unreadable:
        err.write(problem + "\n")
    for line in report.bad:
        err.write(str(line) + "\n")
    rate = report.events / report.seconds if report.seconds > 0 else 0.0
    out.write(
        f"Imported {report.events} events from {report.files_read} of {len(paths)} file(s) "
        f"in {report.seconds:.1f}s ({rate:,.0f} events/s); "
        f"{len(report.bad)} bad line(s), {len(report.unreadable)} unreadable file(s).\n"
    )
    return report
