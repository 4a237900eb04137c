"""Tables of the patterns app: one row per error signature, and the miner's saved state.

Rows are written only by `services` (one transaction per ingested batch); nothing else may
write them. Template ids come from the miner and never change; when the miner merges two
templates the merged-away row is deleted and its lines count under the survivor.
"""

from __future__ import annotations

from django.db import models


class Template(models.Model):
    """One error signature as the miner sees it now."""

    template_id = models.CharField(primary_key=True, max_length=32)
    template = models.TextField()
    count = models.BigIntegerField(default=0)
    first_seen = models.DateTimeField(null=True, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-count", "template_id"]

    def __str__(self) -> str:
        return f"{self.template_id} {self.template}"


class MinerState(models.Model):
    """The single saved miner state (`TemplateMiner.to_state()`), with an optimistic version.

    A save succeeds only if `version` is still the one the saver loaded (conditional update);
    the loser reloads, replays its batch and tries again.
    """

    SINGLETON = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=SINGLETON)
    state = models.JSONField()
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"miner state v{self.version}"
