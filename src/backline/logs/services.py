"""The Django side of the logs app: which source and store to use, ingest keys, audited search.

Owns the checkpoint every log read goes through (``logs_search`` and friends: permission, audit
row in a transaction, masking for roles without identifier access) and ingest-key management.
Must not touch tickets or the query language's internals.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backline.accounts.models import User
from backline.accounts.permissions import Action, require
from backline.audit.masking import LOG_PROTECTED_PATHS, log_redactor, redact_log_fields
from backline.audit.services import audit_record
from backline.errors import InvalidInput, NotFound
from backline.logs import schema
from backline.logs.duckdb_source import DuckDBSource
from backline.logs.models import IngestKey, ingest_key_digest, new_ingest_secret
from backline.logs.source import (
    Bucket,
    FacetValue,
    GroupValues,
    LogEvent,
    LogSource,
    Page,
    Sort,
)
from backline.logs.store import LogStore, open_store

T = TypeVar("T")


def store_path() -> Path:
    """``VAR_DIR/logs.duckdb`` (tests point ``VAR_DIR`` at a temporary folder)."""
    return Path(settings.VAR_DIR) / "logs.duckdb"


def spool_dir() -> Path:
    path = Path(settings.VAR_DIR) / "logs-spool"
    path.mkdir(parents=True, exist_ok=True)
    return path


def get_store() -> LogStore:
    """This process's store for the configured ``VAR_DIR``."""
    return open_store(store_path())


def get_source() -> LogSource:
    """The configured source: the embedded store, or Datadog's Logs API."""
    if settings.BACKLINE_LOG_SOURCE == "datadog":
        from backline.logs.datadog_source import DatadogSource

        return DatadogSource(
            site=settings.BACKLINE_DATADOG_SITE,
            api_key=settings.BACKLINE_DATADOG_API_KEY,
            app_key=settings.BACKLINE_DATADOG_APP_KEY,
        )
    return DuckDBSource(get_store())


def signature_hook() -> Callable[[list[str]], list[str]]:
    """The ingest's signature hook: the pattern miner's template id for each message."""
    from backline.patterns.services import signatures_for

    def hook(messages: list[str]) -> list[str]:
        return signatures_for(messages, timezone.now())

    return hook


# -- ingest keys ------------------------------------------------------------------------------


def ingest_key_create(*, actor: User | None, name: str) -> tuple[IngestKey, str]:
    """Create a key; return it and its secret (shown once). ``actor`` None = command line."""
    if actor is not None:
        require(actor, Action.INGEST_KEY_MANAGE)
    name = name.strip()
    if not name:
        raise InvalidInput("An ingest key needs a name.", {"name": ["This field is required."]})
    if IngestKey.objects.filter(name=name).exists():
        raise InvalidInput(
            f"An ingest key named {name!r} exists.", {"name": ["That name is taken."]}
        )
    secret = new_ingest_secret()
    with transaction.atomic():
        key = IngestKey.objects.create(name=name, digest=ingest_key_digest(secret), hint=secret[:8])
        audit_record(actor=actor, action="logs.ingest_key.create", detail={"name": name})
    return key, secret


def ingest_key_revoke(*, actor: User | None, name: str) -> IngestKey:
    if actor is not None:
        require(actor, Action.INGEST_KEY_MANAGE)
    key = IngestKey.objects.filter(name=name).first()
    if key is None:
        raise NotFound(f"No ingest key named {name!r}.")
    with transaction.atomic():
        IngestKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit_record(actor=actor, action="logs.ingest_key.revoke", detail={"name": name})
    key.refresh_from_db()
    return key


def ingest_key_check(raw: str) -> IngestKey | None:
    """The active key with this secret, or None."""
    if not raw:
        return None
    key = IngestKey.objects.filter(digest=ingest_key_digest(raw), revoked_at=None).first()
    if key is None:
        return None
    # Constant-time compare of the digests: the lookup above already matched, this is belt and
    # braces against a database collation that compares case-insensitively.
    return key if secrets.compare_digest(key.digest, ingest_key_digest(raw)) else None


# -- audited reads ----------------------------------------------------------------------------


def _sees_identifiers(user: User) -> bool:
    """The generic log API always masks identifiers, whatever the role.

    Unmasked views exist only through the workbench checkpoint (``workbench.services.log_access``),
    which needs the ticket being worked (and unmasks only that ticket's user) or an admin's typed
    reason. Keeping this one rule here means a Tier 3 token can never pull raw patient data in
    bulk without saying why.
    """
    return False


def _mask_event(event: LogEvent) -> LogEvent:
    """Protected columns and attribute paths masked whole, identifiers in free text masked too."""
    return LogEvent(
        ts=event.ts,
        columns=redact_log_fields(event.columns),
        attrs=redact_log_fields(event.attrs),
    )


def _mask_group(user: User, field: str | None, value: str | None) -> str | None:
    """A facet or group value as ``user`` may see it.

    A protected field's value is masked whole (``[UUID:...]``); any other field's value (a
    message, a path) has the identifiers inside it masked.
    """
    if value is None or field is None or _sees_identifiers(user):
        return value
    name = field.removeprefix("@")
    column = schema.ATTRIBUTE_COLUMNS.get(name)
    key = column if column in schema.PROTECTED_COLUMNS else name
    if key in LOG_PROTECTED_PATHS:
        return str(redact_log_fields({key: value})[key])
    return log_redactor().redact_text(value)


def _audited(
    *,
    user: User,
    kind: str,
    query: str,
    start: datetime,
    end: datetime,
    run: Callable[[], T],
    count: Callable[[T], int],
    ticket_number: str = "",
    extra: dict[str, Any] | None = None,
) -> T:
    """Permission check, the read, and its audit row; the row commits only with a real answer.

    The read runs first and the audit row is written after it inside one transaction: a query
    that fails (syntax error) leaves no row claiming results were seen.
    """
    require(user, Action.LOGS_SEARCH)
    result = run()
    with transaction.atomic():
        audit_record(
            actor=user,
            action="logs.search",
            query=query,
            ticket_number=ticket_number,
            result_count=count(result),
            unmasked=_sees_identifiers(user),
            detail={
                "kind": kind,
                "from": start.isoformat(),
                "to": end.isoformat(),
                **(extra or {}),
            },
        )
    return result


def logs_search_cli(
    *,
    query: str,
    start: datetime,
    end: datetime,
    limit: int = 50,
    os_user: str,
) -> Page:
    """``backline logs query`` without ``--as``: raw events, audited with no actor.

    The operator is not a Backline user, but the look is still recorded: ``actor`` is None and
    ``reason`` is ``cli:<OS user>``. The row is written after the read, in a transaction, as
    for every other log read.
    """
    page = get_source().search(query, start, end, limit=limit)
    with transaction.atomic():
        audit_record(
            actor=None,
            action="logs.search",
            reason=f"cli:{os_user}",
            query=query,
            result_count=len(page.events),
            unmasked=True,
            detail={"kind": "search", "from": start.isoformat(), "to": end.isoformat()},
        )
    return page


def logs_search(
    *,
    user: User,
    query: str,
    start: datetime,
    end: datetime,
    limit: int = 50,
    cursor: str | None = None,
    sort: Sort = "desc",
    ticket_number: str = "",
) -> Page:
    """Events for ``user``: raw for Tier 3 and up, identifiers masked for Tier 2. Audited."""
    page = _audited(
        user=user,
        kind="search",
        query=query,
        start=start,
        end=end,
        run=lambda: get_source().search(query, start, end, limit=limit, cursor=cursor, sort=sort),
        count=lambda result: len(result.events),
        ticket_number=ticket_number,
    )
    if _sees_identifiers(user):
        return page
    return Page(events=[_mask_event(e) for e in page.events], next_cursor=page.next_cursor)


def logs_facets(
    *, user: User, query: str, start: datetime, end: datetime, fields: list[str], limit: int = 10
) -> dict[str, list[FacetValue]]:
    """Top values per field, masked where the field holds identifiers and the user may not see."""
    result = _audited(
        user=user,
        kind="facets",
        query=query,
        start=start,
        end=end,
        run=lambda: get_source().facets(query, start, end, fields=fields, limit=limit),
        count=lambda facets: sum(v.count for values in facets.values() for v in values[:1]),
        extra={"fields": fields},
    )
    return {
        name: [FacetValue(_mask_group(user, name, v.value), v.count) for v in values]
        for name, values in result.items()
    }


def logs_timeseries(
    *,
    user: User,
    query: str,
    start: datetime,
    end: datetime,
    interval: timedelta,
    group_by: str | None = None,
    limit: int = 10,
) -> list[Bucket]:
    """Counts per interval (and group); audited like a search."""
    buckets = _audited(
        user=user,
        kind="timeseries",
        query=query,
        start=start,
        end=end,
        run=lambda: get_source().timeseries(
            query, start, end, interval=interval, group_by=group_by, limit=limit
        ),
        count=lambda result: sum(b.count for b in result),
        extra={"group_by": group_by or ""},
    )
    return [Bucket(b.start, _mask_group(user, group_by, b.group), b.count) for b in buckets]


def logs_aggregate(
    *,
    user: User,
    kind: str,
    query: str,
    start: datetime,
    end: datetime,
    field: str,
    group_by: str | None = None,
    ps: tuple[int, ...] = (50, 95, 99),
    limit: int = 10,
) -> list[GroupValues]:
    """``kind`` "percentiles" or "distinct" of ``field``, overall or per group; audited."""
    source = get_source()

    def run() -> list[GroupValues]:
        if kind == "percentiles":
            return source.percentiles(
                query, start, end, field=field, ps=ps, group_by=group_by, limit=limit
            )
        return source.count_distinct(query, start, end, field=field, group_by=group_by, limit=limit)

    rows = _audited(
        user=user,
        kind=kind,
        query=query,
        start=start,
        end=end,
        run=run,
        count=len,
        extra={"field": field, "group_by": group_by or ""},
    )
    return [GroupValues(_mask_group(user, group_by, r.group), r.values) for r in rows]
