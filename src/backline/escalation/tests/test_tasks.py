"""Continuous detection as a self-rescheduling chain of database tasks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from backline.escalation import tasks
from backline.escalation.models import RuleSettings
from backline.escalation.tests.conftest import NOW

pytestmark = pytest.mark.django_db
PATH = "backline.escalation.tasks.escalation_detect"


def scheduled() -> list[Any]:
    return sorted(DBTaskResult.objects.filter(task_path=PATH).values_list("run_after", flat=True))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The tasks module's clock, at NOW until a test moves it."""
    now = [NOW]
    monkeypatch.setattr(tasks.timezone, "now", lambda: now[0])
    return now


def test_the_chain_starts_once_and_each_run_schedules_the_next(
    settings: Any,
    var_dir: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
    clock: list[datetime],
) -> None:
    settings.DETECTION_SECONDS = 20
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.detection_ensure(now=NOW)
        assert not tasks.detection_ensure(now=NOW + timedelta(seconds=30))  # a run is due
    assert scheduled() == [NOW]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.escalation_detect.call(NOW.isoformat())
    following = NOW + timedelta(seconds=20)
    assert scheduled() == [NOW, following]
    assert RuleSettings.objects.get().detection_due_at == following
    # A duplicate of the run already done is not the chain's current one: it schedules nothing.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.escalation_detect.call(NOW.isoformat())
    assert scheduled() == [NOW, following]


def test_a_stalled_chain_is_restarted(
    settings: Any, var_dir: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    settings.DETECTION_SECONDS = 15
    RuleSettings.objects.create(pk=RuleSettings.SINGLETON, detection_due_at=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        assert not tasks.detection_ensure(now=NOW + timedelta(seconds=29))
        assert tasks.detection_ensure(now=NOW + timedelta(seconds=31))
    assert scheduled() == [NOW + timedelta(seconds=31)]


def test_a_late_run_schedules_the_next_from_now_and_a_failed_one_goes_on(
    settings: Any,
    var_dir: Path,
    django_capture_on_commit_callbacks: Callable[..., Any],
    clock: list[datetime],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.DETECTION_SECONDS = 15
    RuleSettings.objects.create(pk=RuleSettings.SINGLETON, detection_due_at=NOW)
    clock[0] = NOW + timedelta(minutes=5)  # the worker was busy: the run starts 5 min late

    def broken() -> list[Any]:
        raise ConnectionError("log source unreachable")

    monkeypatch.setattr(tasks.services, "detect", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.escalation_detect.call(NOW.isoformat()) == 0
    assert "escalation detection failed" in caplog.text
    assert scheduled() == [clock[0]]  # not NOW + 15 s: no catching up run by run
    assert RuleSettings.objects.get().detection_due_at == clock[0]
