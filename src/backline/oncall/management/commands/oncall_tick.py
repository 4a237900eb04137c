"""Run the idempotent on-call services for "now": due handoffs, overdue transfers, waiting tickets.

Safe to run as often as you like (cron every few minutes, or once in tests with --now).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from backline.oncall.handoff import handoff_create_due, handoffs_transfer_overdue
from backline.oncall.routing import route_waiting_tickets


class Command(BaseCommand):
    help = "Create due handoffs, transfer overdue ones, route tickets waiting for coverage."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="ISO 8601 instant with a zone (default: the clock).")

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options.get("now"):
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError(f"--now must be ISO 8601, got {options['now']!r}") from None
            if now.tzinfo is None:
                raise CommandError("--now must carry a time zone (e.g. 2026-12-03T09:00-05:00)")
        created = handoff_create_due(now=now)
        transferred = handoffs_transfer_overdue(now=now)
        routed = route_waiting_tickets(now=now)
        self.stdout.write(
            f"handoffs created: {len(created)}, transferred: {len(transferred)}, "
            f"tickets routed: {len(routed)}"
        )
