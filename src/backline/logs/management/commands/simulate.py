"""``backline simulate``: the simulated health portal's logs, to a file or into the store."""

from __future__ import annotations

import json
import tempfile
from argparse import ArgumentParser
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from backline.logs import services
from backline.logs.ingest import import_file
from backline.logs.simulate import (
    DEFAULT_START,
    SimulationConfig,
    manifest,
    parse_scenario,
    write_jsonl,
)


class Command(BaseCommand):
    help = "Generate the simulated health portal's logs (deterministic from --seed)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--start", default=DEFAULT_START.isoformat(), help="ISO-8601 with zone")
        parser.add_argument("--days", type=float, default=7.0)
        parser.add_argument("--users", type=int, default=2000)
        parser.add_argument("--rate", type=float, default=20.0, help="mean events per second")
        parser.add_argument(
            "--scenario",
            action="append",
            default=[],
            help="name[:start=...,duration=2h,intensity=1,target=...] (repeatable)",
        )
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--out", type=Path, help="write JSON lines to this file")
        target.add_argument("--store", action="store_true", help="load into the log store")
        parser.add_argument("--manifest", type=Path, help="write the scenarios' ground truth here")
        parser.add_argument(
            "--no-signatures", action="store_true", help="with --store: skip error signatures"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start = datetime.fromisoformat(options["start"])
            config = SimulationConfig(
                seed=options["seed"],
                start=start,
                days=options["days"],
                users=options["users"],
                events_per_second=options["rate"],
                scenarios=[parse_scenario(text) for text in options["scenario"]],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if options["out"] is not None:
            summary = write_jsonl(config, options["out"])
            self.stdout.write(
                f"Wrote {summary.events} events ({summary.bytes / 1e6:.1f} MB) to "
                f"{options['out']} in {summary.seconds:.1f}s."
            )
        else:
            with tempfile.TemporaryDirectory(prefix="backline-simulate-") as folder:
                path = Path(folder) / "events.jsonl"
                summary = write_jsonl(config, path)
                hook = None if options["no_signatures"] else services.signature_hook()
                result = import_file(services.get_store(), path, signature_hook=hook)
            self.stdout.write(f"Loaded {result.events} simulated events into the log store.")
        if options["manifest"] is not None:
            truths = [asdict(truth) for truth in manifest(config)]
            options["manifest"].write_text(json.dumps(truths, indent=2, default=str) + "\n")
            self.stdout.write(f"Ground truth of {len(truths)} scenario(s): {options['manifest']}")
