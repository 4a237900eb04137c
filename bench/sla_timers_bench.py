"""SLA timer lateness: N timers due within a short window, real workers, a local Slack-like server.

Measures, for every timer, the time from its due moment to the arrival of its Slack message at a
local HTTP server (the whole path: the timer task fires, writes the outbox row, the delivery task
sends it). Prints p50 / p95 / max lateness; ``--write`` appends a section to docs/benchmarks.md.

    .venv/bin/python bench/sla_timers_bench.py                       # SQLite in a temp folder
    .venv/bin/python bench/sla_timers_bench.py --database-url postgres://postgres@127.0.0.1:5432/backline_bench

The PostgreSQL database named in the URL is dropped and created afresh.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ARRIVALS: dict[str, float] = {}
DUPLICATES: list[str] = []
LOCK = threading.Lock()
NUMBER = re.compile(r"BL-\d+")


class Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        now = time.time()
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        found = NUMBER.search(body.get("text", ""))
        if found:
            with LOCK:
                if found.group() in ARRIVALS:
                    DUPLICATES.append(found.group())
                ARRIVALS.setdefault(found.group(), now)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def fresh_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--window", type=float, default=30.0, help="seconds the due moments span")
    parser.add_argument("--lead", type=float, default=15.0, help="seconds before the first is due")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.5, help="db_worker --interval")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--write", action="store_true", help="append results to docs/benchmarks.md")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="backline-bench-")
    os.environ["BACKLINE_VAR_DIR"] = var_dir
    os.environ["BACKLINE_SLACK_WEBHOOK_HOSTS"] = "127.0.0.1"
    if args.database_url:
        fresh_postgres(args.database_url)
        os.environ["BACKLINE_DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("BACKLINE_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backline.settings")
    sys.path.insert(0, str(REPO / "src"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    call_command("migrate", interactive=False, verbosity=0)

    from backline.accounts.roles import Role
    from backline.accounts.services import user_create
    from backline.notify import timers
    from backline.notify.models import Channel, ChannelKind
    from backline.tickets.models import Ticket

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    Channel.objects.create(
        kind=ChannelKind.SLACK,
        name="#mhv-tier-3-support",
        role=Role.TIER3,
        webhook_url=f"http://127.0.0.1:{port}/services/T0BENCH/B0BENCH/bench",
    )
    sam = user_create(username="bench", password=secrets.token_urlsafe(16), roles=[Role.TIER2])

    now = datetime.now(UTC)
    first = now + timedelta(seconds=args.lead)
    far = now + timedelta(days=30)
    step = args.window / max(args.timers - 1, 1)
    due: dict[str, datetime] = {}
    tickets = []
    for i in range(args.timers):
        moment = first + timedelta(seconds=i * step)
        number = f"BL-{100000 + i}"
        due[number] = moment
        tickets.append(
            Ticket(
                number=number,
                title=f"Benchmark ticket {i}",
                description="SLA timer benchmark",
                priority="medium",
                tier=3,
                status="new",
                created_by=sam,
                sla_started_at=now,
                ack_risk_at=moment,
                ack_due_at=far,
                resolve_risk_at=far,
                resolve_due_at=far,
                next_risk_at=moment,
                next_due_at=far,
            )
        )
    Ticket.objects.bulk_create(tickets, batch_size=500)
    started = time.monotonic()
    # The real scheduling path: SlaTimer rows and one task per moment, enqueued on commit.
    for ticket in Ticket.objects.filter(number__in=list(due)).iterator():
        with transaction.atomic():
            timers.timers_sync(ticket=ticket, now=now)
    scheduled_in = time.monotonic() - started
    if datetime.now(UTC) > first:
        print("warning: scheduling took longer than --lead; early timers are late by design")
    connection.close()

    env = dict(os.environ)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "backline.cli",
                "worker",
                "--interval",
                str(args.interval),
                "--no-startup-delay",
                "--no-reload",
                "--verbosity",
                "0",
            ],
            env=env,
        )
        for _ in range(args.workers)
    ]
    deadline = first + timedelta(seconds=args.window + 120)
    try:
        while datetime.now(UTC) < deadline:
            with LOCK:
                if len(ARRIVALS) >= args.timers:
                    break
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        server.shutdown()

    lateness = [ARRIVALS[n] - due[n].timestamp() for n in due if n in ARRIVALS]
    missing = args.timers - len(lateness)
    engine = "PostgreSQL" if args.database_url else "SQLite (WAL)"
    result = {
        "timers": args.timers,
        "delivered": len(lateness),
        "missing": missing,
        "duplicates": len(DUPLICATES),
        "p50": statistics.median(lateness) if lateness else float("nan"),
        "p95": percentile(lateness, 95) if lateness else float("nan"),
        "max": max(lateness) if lateness else float("nan"),
        "min": min(lateness) if lateness else float("nan"),
    }
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    line = (
        f"| {engine} | {args.timers} in {args.window:g} s | {args.workers} | {args.interval:g} s | "
        f"{result['p50']:.2f} s | {result['p95']:.2f} s | {result['max']:.2f} s | "
        f"{result['delivered']} / {result['missing']} / {result['duplicates']} |"
    )
    print(f"scheduled {args.timers} timers in {scheduled_in:.1f} s on {engine}")
    print(json.dumps(result, indent=2))
    print(line)
    if args.write:
        path = REPO / "docs" / "benchmarks.md"
        with path.open("a") as out:
            out.write(line + "\n")
    print(f"machine: {machine}")
    return 0 if missing == 0 and result["max"] <= 5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
