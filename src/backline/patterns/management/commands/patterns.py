"""`backline patterns mine [FILE|-] [--json]`: run the template miner over raw messages.

Reads one message per line and prints, per line and in input order, its template id, a tab and
its template as they stand at the end of the input. Touches no database.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from backline.patterns.engine import mine_lines


class Command(BaseCommand):
    help = "Error-signature tools. `patterns mine [FILE|-] [--json]` mines messages, one a line."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        mine = sub.add_parser("mine", help="print each line's template id and template")
        mine.add_argument("file", nargs="?", default="-", help="a file of messages, or - (stdin)")
        mine.add_argument("--json", action="store_true", help="JSON lines instead of TSV")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "mine":
            self._mine(options["file"], as_json=options["json"])

    def _mine(self, path: str, *, as_json: bool) -> None:
        if path == "-":
            lines = [line.rstrip("\r\n") for line in sys.stdin]
        else:
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    lines = [line.rstrip("\r\n") for line in handle]
            except OSError as exc:
                raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=2) from None
        out = self.stdout
        for line, (template_id, template) in zip(lines, mine_lines(lines), strict=True):
            if as_json:
                record = {"line": line, "template_id": template_id, "template": template}
                out.write(json.dumps(record, ensure_ascii=False))
            else:
                out.write(f"{template_id}\t{template}")
