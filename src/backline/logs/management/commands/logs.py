"""``backline logs import|query|prune|flush|key``: the log store from the command line.

``query`` is audited like every log read. With ``--as USERNAME`` it runs as that Backline user
(their permission, their masking, an audit row naming them). Without it the operator is not a
Backline user: the events are shown raw (shell access to the server already means access to the
file) and the audit row has no actor and the reason ``cli:<OS user>``.
"""

from __future__ import annotations

import getpass
import json
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from backline.accounts.models import User
from backline.errors import DomainError
from backline.logs import services
from backline.logs.importer import run_import
from backline.logs.query import QuerySyntaxError, TimeRangeError, parse_range
from backline.logs.source import LogEvent

TABLE_COLUMNS = ("ts", "status", "service", "user_id", "error_code", "message")


class Command(BaseCommand):
    help = "Import, query and prune the log store; manage ingest keys."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True)
        importing = commands.add_parser("import", help="JSON lines or Datadog archives (.gz)")
        importing.add_argument("files", nargs="+", type=Path)
        importing.add_argument("--no-progress", action="store_true")
        importing.add_argument(
            "--no-signatures",
            action="store_true",
            help="skip error signatures (faster; the events stay unsigned)",
        )

        query = commands.add_parser("query", help="search with the Datadog query syntax")
        query.add_argument("query", nargs="?", default="")
        query.add_argument("--from", dest="start", default="now-15m")
        query.add_argument("--to", dest="end", default="now")
        query.add_argument("--limit", type=int, default=50)
        query.add_argument("--json", action="store_true", help="one JSON object per line")
        query.add_argument(
            "--as",
            dest="as_user",
            metavar="USERNAME",
            help="run as this Backline user (their permission and masking; audited under them)",
        )

        prune = commands.add_parser("prune", help="delete events past retention")
        prune.add_argument("--days", type=int, default=None)

        commands.add_parser("flush", help="load waiting intake spool files now")
        commands.add_parser(
            "migrate", help="canonicalise the statuses of a store written before they were"
        )

        key = commands.add_parser("key", help="ingest keys for POST /api/v2/logs")
        key_actions = key.add_subparsers(dest="key_action", required=True)
        create = key_actions.add_parser("create")
        create.add_argument("name")
        revoke = key_actions.add_parser("revoke")
        revoke.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "import":
            report = run_import(
                services.get_store(),
                options["files"],
                err=sys.stderr,
                out=self.stdout,
                progress=not options["no_progress"],
                signature_hook=None if options["no_signatures"] else services.signature_hook(),
            )
            if report.exit_code:
                sys.exit(report.exit_code)
        elif action == "query":
            self._query(options)
        elif action == "prune":
            from backline.logs.tasks import prune_old_events

            deleted = prune_old_events(days=options["days"])
            self.stdout.write(f"Deleted {deleted} event(s).")
        elif action == "flush":
            from backline.logs.tasks import flush_spool

            self.stdout.write(f"Loaded {flush_spool()} event(s) from the spool.")
        elif action == "migrate":
            from backline.logs.ingest import canonicalise_statuses

            changed = canonicalise_statuses(services.get_store())
            self.stdout.write(f"Canonicalised the status of {changed} event(s).")
        elif action == "key":
            self._key(options)

    def _key(self, options: dict[str, Any]) -> None:
        try:
            if options["key_action"] == "create":
                key, secret = services.ingest_key_create(actor=None, name=options["name"])
                self.stdout.write(f"Ingest key {key.name!r} created. Its secret, shown once:")
                self.stdout.write(secret)
            else:
                key = services.ingest_key_revoke(actor=None, name=options["name"])
                self.stdout.write(f"Ingest key {key.name!r} revoked.")
        except DomainError as exc:
            raise CommandError(exc.message) from None

    def _query(self, options: dict[str, Any]) -> None:
        try:
            window = parse_range(options["start"], options["end"], timezone.now())
        except TimeRangeError as exc:
            raise CommandError(str(exc)) from None
        limit = max(1, options["limit"])
        try:
            if options["as_user"]:
                page = services.logs_search(
                    user=_backline_user(options["as_user"]),
                    query=options["query"],
                    start=window.start,
                    end=window.end,
                    limit=limit,
                )
            else:
                page = services.logs_search_cli(
                    query=options["query"],
                    start=window.start,
                    end=window.end,
                    limit=limit,
                    os_user=getpass.getuser(),
                )
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        except QuerySyntaxError as exc:
            pointer = " " * exc.position + "^"
            raise CommandError(
                f"{exc}; expected {exc.expected}\n  {options['query']}\n  {pointer}"
            ) from None
        if options["json"]:
            for event in page.events:
                self.stdout.write(json.dumps(event.as_dict(), default=str))
            return
        self.stdout.write(_table(page.events))
        self.stdout.write(f"{len(page.events)} event(s)" + (" (more)" if page.next_cursor else ""))


def _backline_user(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active Backline user named {username!r}.")
    return user


def _cell(event: LogEvent, column: str) -> str:
    if column == "ts":
        return event.ts.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    value = event.columns.get(column)
    return "" if value is None else str(value)


def _table(events: list[LogEvent]) -> str:
    rows = [[_cell(event, column) for column in TABLE_COLUMNS] for event in events]
    widths = [
        min(60 if column == "message" else 40, max([len(column), *(len(r[i]) for r in rows)]))
        for i, column in enumerate(TABLE_COLUMNS)
    ]
    lines = ["  ".join(c.ljust(w) for c, w in zip(TABLE_COLUMNS, widths, strict=True))]
    for row in rows:
        lines.append("  ".join(c[:w].ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)
