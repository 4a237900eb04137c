"""Background tasks of the logs app: load intake spool files, drop events past retention (and,
in the same daily run, finished background-task rows past theirs).

Both are safe to run twice: spool files are recorded as loaded in the same transaction as their
events, and pruning by a cutoff is idempotent.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from backline.logs.ingest import load_spooled
from backline.logs.services import get_store, signature_hook, spool_dir

SPOOL_BATCH = 500  # files per write: one payload is at most 1,000 events


def flush_spool() -> int:
    """Load every complete spool file (oldest first), in batches; return events loaded."""
    files = sorted(spool_dir().glob("*.jsonl"))
    loaded = 0
    hook = signature_hook()
    for start in range(0, len(files), SPOOL_BATCH):
        loaded += load_spooled(get_store(), files[start : start + SPOOL_BATCH], signature_hook=hook)
    return loaded


def prune_old_events(*, days: int | None = None) -> int:
    """Delete events older than ``days`` (default ``BACKLINE_LOG_RETENTION_DAYS``)."""
    keep = settings.BACKLINE_LOG_RETENTION_DAYS if days is None else days
    return get_store().prune(before=timezone.now() - timedelta(days=keep))


def prune_if_due(*, every: timedelta = timedelta(days=1)) -> int | None:
    """Prune when the last prune is older than ``every``; None when not due.

    django-tasks has no scheduler, so the task the intake enqueues anyway carries the daily
    retention run; a marker file's modification time remembers the last one.
    """
    marker = Path(settings.VAR_DIR) / "logs-pruned-at"
    now = time.time()
    try:
        if now - marker.stat().st_mtime < every.total_seconds():
            return None
    except FileNotFoundError:
        pass
    marker.touch()
    return prune_old_events()


@task()
def logs_flush_spool() -> int:
    """Enqueued by the intake after each accepted payload; also runs retention once a day."""
    loaded = flush_spool()
    prune_if_due()
    return loaded


@task()
def logs_prune() -> int:
    """Retention: run daily (``backline logs prune`` does the same from cron)."""
    return prune_old_events()


RETENTION_EVERY = timedelta(days=1)


def retention_ensure() -> bool:
    """Start the daily retention chain unless one is already waiting; True when started.

    Called when a worker starts. Two workers starting in the same instant may both start a
    chain; pruning is idempotent, so the only cost is a second daily run.
    """
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(
        task_path=logs_retention.module_path, status__in=["READY", "RUNNING"]
    ).exists()
    if waiting:
        return False
    logs_retention.enqueue()
    return True


def prune_task_results(*, days: int | None = None) -> int:
    """Delete finished background-task rows older than ``days`` (default
    ``BACKLINE_TASK_RESULT_DAYS``): detection alone finishes one every 15 s, 5,760 a day."""
    from django_tasks_db.models import DBTaskResult

    keep = settings.TASK_RESULT_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=keep)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lte=cutoff).delete()
    return deleted


@task()
def logs_retention() -> int:
    """Drop events past retention and old finished task rows; come back in a day (scheduled
    first, so a failed prune does not end the chain)."""
    logs_retention.using(run_after=timezone.now() + RETENTION_EVERY).enqueue()
    dropped = prune_old_events()
    prune_task_results()
    return dropped
