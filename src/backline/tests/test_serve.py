"""`backline serve` runs the production server (gunicorn) and serves static files itself."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, bytes, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback only)
        return response.status, response.read(), response.headers.get("Server", "")


@pytest.mark.skipif(
    not (REPO / "src/backline/web/static/vendor").exists(), reason="front-end assets not built"
)
def test_serve_answers_pages_and_static_files(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKLINE_")}
    env["BACKLINE_VAR_DIR"] = str(tmp_path)
    backline = [sys.executable, "-m", "backline.cli"]
    subprocess.run([*backline, "migrate", "-v0"], env=env, check=True, timeout=300)
    port = free_port()
    server = subprocess.Popen(
        [*backline, "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, body, server_name = get(f"http://127.0.0.1:{port}/login/")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.5)
        assert status == 200
        assert b"Sign in" in body
        assert "gunicorn" in server_name.lower()
        status, css, _ = get(f"http://127.0.0.1:{port}/static/backline/app.css")
        assert status == 200 and len(css) > 0
    finally:
        server.terminate()
        server.wait(timeout=30)
