"""Stable masked tokens for patient identifiers.

The same identifier always masks to the same token (a keyed hash), so a viewer can still see that two
tickets or two log lines concern one person without seeing who it is.

``mask_identifier`` masks one value whose kind the caller knows to be protected; ``log_redactor``
and ``redact_log_fields`` mask log events, including identifiers inside free text (the rules are in
``audit.redact`` and ``docs/protected-data.md``). Both use ``SECRET_KEY``, so their hex agrees.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from backline.audit.redact import Redactor
from backline.audit.services import subject_digest
from backline.logs.schema import PROTECTED_ATTRIBUTES, PROTECTED_COLUMNS

ICN_RE = re.compile(r"^\d{10}V\d{6}$", re.IGNORECASE)
UUID_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.I)
EDIPI_RE = re.compile(r"^\d{10}$")


def identifier_kind(value: str) -> str:
    value = value.strip()
    if ICN_RE.match(value):
        return "ICN"
    if UUID_RE.match(value):
        return "UUID"
    if EDIPI_RE.match(value):
        return "EDIPI"
    return "ID"


def mask_identifier(value: str) -> str:
    """``1012345678V123456`` -> ``ICN-9f2c41``: kind plus six characters of a keyed hash."""
    if not value:
        return ""
    return f"{identifier_kind(value)}-{subject_digest(value)[:6]}"


LOG_PROTECTED_PATHS = PROTECTED_COLUMNS | PROTECTED_ATTRIBUTES


@functools.lru_cache(maxsize=4)
def _redactor_for(secret_key: str) -> Redactor:
    return Redactor(secret_key.encode())


def log_redactor() -> Redactor:
    """The redactor keyed with this deployment's ``SECRET_KEY`` (cached; a changed key, as in
    tests with ``override_settings``, gets its own)."""
    return _redactor_for(settings.SECRET_KEY)


def redact_log_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A masked copy of a log event's columns or attributes, for a viewer without identifier access.

    Protected columns and attribute paths (``logs.schema``) are masked whole; every other string
    has the identifiers inside it masked; request and trace ids are kept.
    """
    return log_redactor().redact_event(fields, protected_paths=LOG_PROTECTED_PATHS)
