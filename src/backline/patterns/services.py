"""Writes of the patterns app: load and save the miner, and sign ingested messages.

`signatures_for` is the log store's signature hook: it gives each message its template id and
records the batch (miner state and Template counts) in one transaction. Each process keeps one
miner in memory, loaded once; the database row is the shared truth between processes.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from backline.patterns.engine import TemplateMiner
from backline.patterns.models import MinerState, Template

__all__ = ["SaveConflict", "miner_load", "miner_reset_cache", "miner_save", "signatures_for"]

MAX_ATTEMPTS = 5


class SaveConflict(Exception):
    """Another process saved the miner state since it was loaded."""


class _Cached:
    miner: TemplateMiner | None = None
    version: int = 0


_cache = _Cached()
_lock = threading.Lock()


def miner_load() -> tuple[TemplateMiner, int]:
    """Return the saved miner and the version it was saved under (a fresh miner, 0, if none)."""
    row = MinerState.objects.filter(pk=MinerState.SINGLETON).first()
    if row is None:
        return TemplateMiner(), 0
    return TemplateMiner.from_state(row.state), row.version


def miner_save(miner: TemplateMiner, *, version: int, state: dict[str, Any] | None = None) -> int:
    """Save `miner` if the stored state is still at `version`; return the new version.

    Raises SaveConflict when another process saved in between (nothing is written then).
    Call inside a transaction when other writes must go with it.
    """
    if state is None:
        state = miner.to_state()
    if version == 0:
        try:
            with transaction.atomic():
                MinerState.objects.create(pk=MinerState.SINGLETON, state=state, version=1)
        except IntegrityError:
            raise SaveConflict("miner state was created by another process") from None
        return 1
    updated = MinerState.objects.filter(pk=MinerState.SINGLETON, version=version).update(
        state=state, version=version + 1
    )
    if updated != 1:
        raise SaveConflict(f"miner state is no longer at version {version}")
    return version + 1


def miner_reset_cache() -> None:
    """Forget this process's miner, so the next batch loads the saved state (tests, reloads)."""
    with _lock:
        _cache.miner = None
        _cache.version = 0


def signatures_for(messages: list[str], at: datetime) -> list[str]:
    """Return the template id of each message, in order, and record the batch.

    Concurrency, step by step:
    1. Under a process lock, take this process's miner (load it on first use) and add the
       batch to it.
    2. In one transaction, save the state with a conditional update on its version and write
       the Template rows the batch touched.
    3. If another process saved first, the update matches no row: reload the saved state
       (which holds that process's batches), add this batch again, and retry from 2.
    Ids are those of the miner that was saved, resolved through merges.
    """
    if at.tzinfo is None:
        raise ValueError("at must be an aware datetime")
    with _lock:
        if _cache.miner is None:
            _cache.miner, _cache.version = miner_load()
        for _attempt in range(MAX_ATTEMPTS):
            miner, version = _cache.miner, _cache.version
            try:
                ids = [match.template_id for match in miner.add_many(messages, at=at)]
                state = miner.to_state()
                with transaction.atomic():
                    new_version = miner_save(miner, version=version, state=state)
                    _templates_write(miner, ids, aliases=state["aliases"])
            except SaveConflict:
                _cache.miner, _cache.version = miner_load()
                continue
            except BaseException:
                # The batch is in memory but not saved: start again from the saved state.
                _cache.miner = None
                raise
            _cache.version = new_version
            return miner.resolve_many(ids)
        # Drop the half-applied miner: the next call starts from the saved state.
        _cache.miner = None
        raise SaveConflict(f"gave up saving the miner state after {MAX_ATTEMPTS} attempts")


def _templates_write(miner: TemplateMiner, ids: list[str], *, aliases: dict[str, str]) -> None:
    live = {miner.resolve(template_id) for template_id in ids}
    rows = {row["id"]: row for row in miner.templates() if row["id"] in live}
    # Merged-away templates: their lines now count under the survivor.
    Template.objects.filter(template_id__in=list(aliases)).delete()
    for template_id in sorted(live):
        row = rows[template_id]
        Template.objects.update_or_create(
            template_id=template_id,
            defaults={
                "template": row["template"],
                "count": row["count"],
                "first_seen": _time(row["first_seen"]),
                "last_seen": _time(row["last_seen"]),
            },
        )


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)
