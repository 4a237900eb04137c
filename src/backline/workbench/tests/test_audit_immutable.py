"""The audit log is append-only through every door the application has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from backline.accounts.models import User
from backline.api import api
from backline.audit.models import AuditEvent, AuditImmutableError
from backline.audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def row(make_person: Callable[[str], User]) -> AuditEvent:
    return audit_record(actor=make_person("erin"), action="workbench.search", query="status:error")


def test_a_saved_row_cannot_be_changed_or_deleted(row: AuditEvent) -> None:
    row.query = "something else"
    with pytest.raises(AuditImmutableError):
        row.save()
    with pytest.raises(AuditImmutableError):
        row.delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=row.pk).update(query="x")
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.filter(pk=row.pk).delete()
    with pytest.raises(AuditImmutableError):
        AuditEvent.objects.all().delete()
    # bulk_update runs in an atomic block without a savepoint: give it one, so the failure does
    # not poison the test's transaction.
    with pytest.raises(AuditImmutableError), transaction.atomic():
        AuditEvent.objects.bulk_update([row], ["query"])
    assert AuditEvent.objects.get(pk=row.pk).query == "status:error"


def test_the_admin_offers_no_add_change_or_delete(
    row: AuditEvent, make_person: Callable[[str], User]
) -> None:
    model_admin = site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    superuser = make_person("ada")
    superuser.is_superuser = superuser.is_staff = True
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)
    assert "delete_selected" not in model_admin.get_actions(request)


def _url_names(patterns: list[Any], prefix: str = "") -> list[str]:
    found: list[str] = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            found += _url_names(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            found.append(prefix + str(pattern.pattern))
    return found


def test_no_url_or_api_operation_writes_audit_rows_other_than_by_reading() -> None:
    # Every API operation that touches the audit log is a GET.
    schema = api.get_openapi_schema()
    audit_paths = {p: ops for p, ops in schema["paths"].items() if "audit" in p}
    assert audit_paths, "the audit search endpoint is documented"
    for operations in audit_paths.values():
        assert set(operations) == {"get"}
    # No page URL outside the admin (which refuses, above) names the audit log with a write.
    urls = [
        u
        for u in _url_names(get_resolver().url_patterns)
        if "audit" in u and not u.startswith(("admin/", "api/"))
    ]
    assert urls == ["audit/"]


def test_the_audit_page_refuses_writes(row: AuditEvent, make_person: Callable[[str], User]) -> None:
    client = Client()
    client.force_login(make_person("ada"))
    assert client.post("/audit/", {"id": row.pk, "query": "x"}).status_code == 405
    assert client.delete("/audit/").status_code == 405
    assert AuditEvent.objects.get(pk=row.pk).query == "status:error"
