"""Real local servers on 127.0.0.1 standing in for Slack, PagerDuty and SMTP in tests."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# (status, headers, body, delay before answering in seconds)
Reply = tuple[int, dict[str, str], str, float]


@dataclass
class Received:
    path: str
    body: Any
    at: float


@dataclass
class FakeHttpServer:
    """Answers POSTs with whatever ``script(n, body)`` says for the n-th request (from 0)."""

    script: Callable[[int, Any], Reply]
    tls: ssl.SSLContext | None = None
    port_wanted: int = 0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode()
                with owner.lock:
                    n = owner.count
                    owner.count += 1
                status, headers, text, delay = owner.script(n, body)
                if delay:
                    time.sleep(delay)
                if 200 <= status < 300:
                    with owner.lock:
                        owner.received.append(Received(self.path, body, time.time()))
                data = text.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.count = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port_wanted), Handler)
        self.httpd.daemon_threads = True
        if self.tls is not None:
            self.httpd.socket = self.tls.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def base(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def slack_ok(n: int, body: Any) -> Reply:
    return 200, {"Content-Type": "text/plain"}, "ok", 0.0


def pagerduty_ok(n: int, body: Any) -> Reply:
    answer = {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")}
    return 202, {"Content-Type": "application/json"}, json.dumps(answer), 0.0


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (openssl CLI), as (cert, key)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
