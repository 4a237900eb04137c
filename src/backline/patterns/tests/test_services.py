"""Miner persistence and the ingest signature hook, against the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backline.patterns import miner as pure_miner
from backline.patterns import services
from backline.patterns.engine import TemplateMiner
from backline.patterns.models import MinerState, Template
from backline.patterns.services import (
    SaveConflict,
    miner_load,
    miner_reset_cache,
    miner_save,
    signatures_for,
)

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_process_cache() -> Any:
    miner_reset_cache()
    yield
    miner_reset_cache()


def test_state_survives_a_restart() -> None:
    first = signatures_for(["disk 3 full", "user cyrus left"], T0)
    miner_reset_cache()  # a new process
    again = signatures_for(["disk 9 full", "user cyrus left"], T0 + timedelta(minutes=1))
    assert again == first
    row = Template.objects.get(template_id=first[0])
    assert (row.template, row.count) == ("disk <*> full", 2)
    assert row.first_seen == T0 and row.last_seen == T0 + timedelta(minutes=1)
    assert MinerState.objects.get().version == 2


def test_save_is_conditional_on_the_version() -> None:
    miner, version = miner_load()
    assert version == 0
    miner.add("disk 3 full")
    assert miner_save(miner, version=0) == 1
    with pytest.raises(SaveConflict):
        miner_save(miner, version=0)  # a second creator
    assert miner_save(miner, version=1) == 2
    with pytest.raises(SaveConflict):
        miner_save(miner, version=1)  # stale
    loaded, loaded_version = miner_load()
    assert loaded_version == 2 and loaded.to_state() == miner.to_state()


def test_concurrent_saver_is_merged_not_lost() -> None:
    signatures_for(["disk 3 full"], T0)
    # Another process saves its batch behind this process's back.
    other, version = miner_load()
    other.add("user cyrus left", at=T0)
    other.add("disk 5 full", at=T0)
    miner_save(other, version=version)
    # This process's cached miner is stale: its save conflicts, it reloads and replays.
    ids = signatures_for(["disk 4 full"], T0)
    # Rows are written for the templates a batch touched; the other process's line counts too.
    counts = dict(Template.objects.values_list("template", "count"))
    assert counts == {"disk <*> full": 3}
    assert Template.objects.get(template_id=ids[0]).template == "disk <*> full"
    saved, _ = miner_load()
    assert {row["template"] for row in saved.templates()} == {"disk <*> full", "user cyrus left"}
    assert MinerState.objects.get().version == 3


def test_merged_templates_leave_one_row_under_the_oldest_id() -> None:
    cyrus, news = signatures_for(["user cyrus left", "user news left"], T0)
    assert cyrus != news and Template.objects.count() == 2
    (root,) = signatures_for(["user root left"], T0)
    assert root == cyrus
    (row,) = Template.objects.all()
    assert (row.template_id, row.template, row.count) == (cyrus, "user <*> left", 3)


def test_batch_ids_and_state_are_those_of_add_and_resolve_line_by_line() -> None:
    # `signatures_for` mines a batch with `add_many` and `resolve_many`; the pure module, line
    # by line, must give the same ids and the same saved state (the engine's miner may be the
    # compiled build: its state must be the same data).
    batch = [
        *("user cyrus left", "disk 3 full", "user news left", "retry 2 of 5 for RX139"),
        *("user root left", "disk 4 full", "retry 3 of 5 for RX139", "user cyrus left"),
    ]
    ids = signatures_for(batch, T0)
    reference = pure_miner.TemplateMiner()
    added = [reference.add(message, at=T0).template_id for message in batch]
    assert ids == [reference.resolve(template_id) for template_id in added]
    assert len(set(added)) > len(set(ids))  # a merge happened within the batch
    saved, _ = miner_load()
    assert saved.to_state() == reference.to_state()


def test_gives_up_after_repeated_conflicts(monkeypatch: pytest.MonkeyPatch) -> None:
    def always_conflict(miner: TemplateMiner, **kwargs: Any) -> int:
        raise SaveConflict("busy")

    monkeypatch.setattr(services, "miner_save", always_conflict)
    with pytest.raises(SaveConflict, match="gave up"):
        signatures_for(["disk 3 full"], T0)
    assert not Template.objects.exists()


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        signatures_for(["disk 3 full"], datetime(2026, 11, 23, 14, 0))
