"""The daily retention run: old events and old finished background-task rows go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from backline.logs import tasks
from backline.logs.ingest import import_file
from backline.logs.services import get_store
from backline.logs.tests.conftest import event, write_lines

pytestmark = pytest.mark.django_db


def finished(status: str, days_ago: float) -> str:
    """A logs_prune task row that finished ``days_ago`` days ago with ``status``."""
    result = tasks.logs_prune.enqueue()
    at = timezone.now() - timedelta(days=days_ago)
    DBTaskResult.objects.filter(id=result.id).update(status=status, finished_at=at)
    return str(result.id)


def test_old_finished_task_rows_go_and_waiting_ones_stay(settings: Any) -> None:
    settings.TASK_RESULT_DAYS = 14
    old_ok, old_failed = finished("SUCCESSFUL", 15), finished("FAILED", 20)
    recent = finished("SUCCESSFUL", 13)
    waiting = str(
        tasks.logs_prune.using(run_after=timezone.now() - timedelta(days=30)).enqueue().id
    )
    assert tasks.prune_task_results() == 2
    left = {str(pk) for pk in DBTaskResult.objects.values_list("id", flat=True)}
    assert left == {recent, waiting}
    assert old_ok not in left and old_failed not in left


def test_the_retention_run_prunes_both_and_comes_back_in_a_day(
    var_dir: Path, settings: Any
) -> None:
    now = datetime.now(UTC)
    lines = [event((now - timedelta(days=40)).isoformat(), "old"), event(now.isoformat(), "new")]
    import_file(get_store(), write_lines(var_dir / "r.jsonl", lines))
    settings.BACKLINE_LOG_RETENTION_DAYS = 30
    settings.TASK_RESULT_DAYS = 14
    stale = finished("SUCCESSFUL", 15)
    assert tasks.logs_retention.call() == 1
    assert get_store().count() == 1
    assert not DBTaskResult.objects.filter(id=stale).exists()
    following = DBTaskResult.objects.get(task_path=tasks.logs_retention.module_path)
    assert following.run_after > timezone.now() + timedelta(hours=23)
