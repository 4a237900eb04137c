"""Stable masked tokens for patient identifiers.

The same identifier always masks to the same token (a keyed hash), so a viewer can still see that two
tickets or two log lines concern one person without seeing who it is.
"""

from __future__ import annotations

import re

from backline.audit.services import subject_digest

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
