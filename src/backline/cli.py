"""The ``backline`` command: Django's management commands plus ``serve``, ``worker`` and ``demo``.

backline migrate            # any Django command works
backline serve              # production server (gunicorn) with static files from the app
backline worker             # background tasks (django-tasks database backend)
backline demo               # migrate, load demo data, serve with a worker, print the logins
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from typing import Any


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backline.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        print(f"backline: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="backline serve", description="Serve Backline over HTTP.")
    parser.add_argument("--host", default=os.environ.get("BACKLINE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("BACKLINE_PORT", "8000")))
    parser.add_argument(
        "--workers", type=int, default=int(os.environ.get("BACKLINE_WEB_WORKERS", "2"))
    )
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    _setup()
    from django.core.management import call_command
    from gunicorn.app.base import BaseApplication

    call_command("collectstatic", interactive=False, verbosity=0)

    from backline.wsgi import application

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("accesslog", "-")
            self.cfg.set("graceful_timeout", 20)

        def load(self) -> Any:
            return application

    Server().run()
    return 0


def start_recurring_jobs() -> None:
    """Start the self-rescheduling jobs (outbox sweep, on-call gap check, pattern detection,
    log retention).

    Each chain is idempotent to start: a chain that is already running is left alone, so every
    worker can call this when it starts.
    """
    from backline.escalation.tasks import detection_ensure
    from backline.logs.tasks import retention_ensure
    from backline.notify.tasks import sweep_ensure

    sweep_ensure()
    detection_ensure()
    retention_ensure()


def worker(argv: list[str]) -> int:
    _setup()
    from django.core.management import call_command

    start_recurring_jobs()

    # Poll twice a second: SLA timers must fire within seconds of their due moment.
    if not any(arg.startswith("--interval") for arg in argv):
        argv = ["--interval", "0.5", *argv]
    call_command("db_worker", *argv)
    return 0


def demo(argv: list[str]) -> int:
    """Prepare the demo world and run the web server and the worker until interrupted."""
    parser = argparse.ArgumentParser(prog="backline demo")
    parser.add_argument("--no-serve", action="store_true", help="load the data and exit")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    _setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("demo_load")
    if args.no_serve:
        return 0
    exe = [sys.executable, "-m", "backline.cli"]
    worker_proc = subprocess.Popen([*exe, "worker"])  # noqa: S603
    web_proc = subprocess.Popen([*exe, "serve", "--port", str(args.port)])  # noqa: S603
    print(
        f"Backline is serving http://127.0.0.1:{args.port}  (Ctrl-C stops the server and the worker)"
    )

    def stop(*_: object) -> None:
        for proc in (web_proc, worker_proc):
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while web_proc.poll() is None and worker_proc.poll() is None:
            try:
                web_proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for proc in (web_proc, worker_proc):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


COMMANDS = {"serve": serve, "worker": worker, "demo": demo}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        return COMMANDS[argv[0]](argv[1:])
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["backline", *argv])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
