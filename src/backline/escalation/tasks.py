"""Background tasks of the escalation app: continuous detection, every
``settings.DETECTION_SECONDS`` (15 by default: four times as often as a Datadog monitor, so an
upstream outage is proposed within a minute of its first errors; one run costs tens of ms).

django-tasks has no scheduler, so detection is a self-rescheduling chain: each run carries the
moment it was scheduled for, and only the run matching ``RuleSettings.detection_due_at`` may
schedule the next (a conditional update), so a duplicated chain dies out. ``detection_ensure``
starts the chain (the worker's startup and the demo call it); running it twice is harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from backline.escalation import services
from backline.escalation.models import RuleSettings

logger = logging.getLogger(__name__)


def _every() -> timedelta:
    return timedelta(seconds=settings.DETECTION_SECONDS)


def _schedule(at: datetime) -> None:
    escalation_detect.using(run_after=at).enqueue(at.isoformat())


def detection_ensure(*, now: datetime | None = None) -> bool:
    """Start the chain unless a run is due within two intervals; True when one was scheduled."""
    now = now or timezone.now()
    row, _ = RuleSettings.objects.get_or_create(pk=RuleSettings.SINGLETON)
    if row.detection_due_at is not None and row.detection_due_at > now - 2 * _every():
        return False
    claimed = RuleSettings.objects.filter(pk=row.pk, detection_due_at=row.detection_due_at).update(
        detection_due_at=now
    )
    if claimed == 1:
        transaction.on_commit(lambda: _schedule(now))
    return claimed == 1


@task()
def escalation_detect(scheduled_for: str) -> int:
    """Run detection, then schedule the next run if this run is the chain's current one.

    A failed evaluation (the log source down, a query Datadog refuses) is logged and the chain
    goes on: one bad run must not stop detection. A run that starts late does not make the
    chain catch up run by run; the next one is an interval after now at the latest.
    """
    moment = datetime.fromisoformat(scheduled_for)
    try:
        created = services.detect()
    except Exception:
        logger.exception("escalation detection failed; the next run is scheduled anyway")
        created = []
    following = max(moment + _every(), timezone.now())
    claimed = RuleSettings.objects.filter(
        pk=RuleSettings.SINGLETON, detection_due_at=moment
    ).update(detection_due_at=following)
    if claimed == 1:
        _schedule(following)
    return len(created)
