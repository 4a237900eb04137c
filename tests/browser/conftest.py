"""Browser-test fixtures: Debian's chromium driven by Playwright's sync API, and axe-core checks.

No browser is ever downloaded: the tests use /usr/bin/chromium (``apt-get install chromium``) and
are skipped, with that reason, when it is missing. axe-core comes from node_modules (``npm ci``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The shared autouse fixture that puts the default SLA data back after transactional tests
# (this folder is outside src/, so backline's own conftest does not reach it).
from backline.conftest import default_sla_policies  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@pytest.fixture
def chromium(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A headless Debian chromium (skipped when it is not installed)."""
    # Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from a
    # thread with a running loop unless told it is safe (it is: the loop only drives the browser).
    # Set for the browser tests only, so the rest of the suite keeps Django's guard.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    if not AXE_SCRIPT.exists():
        pytest.fail(
            "node_modules/axe-core is missing: run `npm ci` (make assets) before the browser tests"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def assert_accessible() -> Callable[[Any, str], None]:
    """``assert_accessible(page, "where")`` runs axe-core on the page as it is now."""
    return _assert_accessible


@pytest.fixture
def screenshots_dir(tmp_path: Path) -> Path:
    """Where the flow saves its pictures: docs/screenshots/ (the README's) when
    BACKLINE_SCREENSHOTS=1, otherwise a temporary folder so test runs leave the tree clean."""
    if os.environ.get("BACKLINE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def _assert_accessible(page: Any, where: str) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation."""
    page.add_script_tag(path=str(AXE_SCRIPT))
    violations = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
        }"""
    )
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, f"axe found serious/critical violations on {where}: {blocking}"
