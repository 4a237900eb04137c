"""Ingest keys: the secrets log shippers send as ``DD-API-KEY`` to Backline's intake."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models

INGEST_KEY_PREFIX = "bli_"


def ingest_key_digest(raw: str) -> str:
    # Keys are long random strings, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(raw.encode()).hexdigest()


def new_ingest_secret() -> str:
    return INGEST_KEY_PREFIX + secrets.token_urlsafe(32)


class IngestKey(models.Model):
    """A key that may post logs to ``/api/v2/logs``. Only its hash is stored."""

    name = models.CharField(max_length=100, unique=True)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="The first characters, to tell keys apart.")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
