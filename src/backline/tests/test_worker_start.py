"""Starting a worker starts the recurring jobs once, however many workers start."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from backline.cli import start_recurring_jobs

pytestmark = pytest.mark.django_db


def test_recurring_jobs_start_once(django_capture_on_commit_callbacks: object) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        start_recurring_jobs()
        start_recurring_jobs()  # a second worker starting
    paths = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert paths == [
        "backline.escalation.tasks.escalation_detect",
        "backline.logs.tasks.logs_retention",
        "backline.notify.tasks.clock_task",
    ]
