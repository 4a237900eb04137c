"""REST API for the caller: /me and personal API tokens (shown once, stored hashed, revocable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from backline.accounts.models import ApiToken, Team, User, new_token_secret, token_digest
from backline.accounts.roles import Role
from backline.accounts.services import user_create
from backline.audit.models import AuditEvent
from backline.conftest import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def bearer(secret: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def test_me_names_the_caller_their_roles_and_teams(api_as: Callable[[str], ApiClient]) -> None:
    erin = api_as("erin")
    team = Team.objects.create(slug="tier3", name="Tier 3 Support", role=Role.TIER3)
    team.members.add(erin.user)
    response = erin.get("me")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "username": "erin",
        "name": "Erin",
        "email": "",
        "roles": ["tier3"],
        "teams": [{"slug": "tier3", "name": "Tier 3 Support"}],
        "time_zone": "America/New_York",
    }


def test_me_lists_every_role_of_a_person_with_several() -> None:
    user = user_create(
        username="pat", password="a long enough password", roles=[Role.TIER3, Role.MONITORING]
    )
    secret = new_token_secret()
    ApiToken.objects.create(user=user, name="t", digest=token_digest(secret), hint=secret[:8])
    assert bearer(secret).get("/api/v1/me").json()["roles"] == ["monitoring", "tier3"]


def test_me_signed_out_is_401() -> None:
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert "Bearer" in response.json()["message"]


def test_me_works_with_the_browser_session(make_person: Callable[[str], User]) -> None:
    client = Client()
    client.force_login(make_person("maggie"))
    assert client.get("/api/v1/me").json()["roles"] == ["manager"]


def test_a_new_token_is_shown_once_and_stored_hashed(api_as: Callable[[str], ApiClient]) -> None:
    sam = api_as("sam")
    response = sam.post("me/tokens", {"name": "laptop scripts"})
    assert response.status_code == 201, response.content
    created = response.json()
    secret = created["secret"]
    assert secret.startswith("bl_") and created["hint"] == secret[:8]
    assert created["name"] == "laptop scripts" and created["revoked_at"] is None
    stored = ApiToken.objects.get(pk=created["id"])
    assert stored.digest == token_digest(secret) and secret not in stored.digest
    listed = sam.get("me/tokens").json()
    assert {t["name"] for t in listed} == {"tests", "laptop scripts"}
    assert all("secret" not in t for t in listed)
    assert bearer(secret).get("/api/v1/me").json()["username"] == "sam"
    assert AuditEvent.objects.filter(action="token.create", actor=sam.user).count() == 2


def test_using_a_token_records_its_last_use(api_as: Callable[[str], ApiClient]) -> None:
    tina = api_as("tina")
    token = ApiToken.objects.get(user=tina.user)
    assert token.last_used_at is None
    tina.get("me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    listed = tina.get("me/tokens").json()
    assert listed[0]["last_used_at"] is not None


def test_revoking_a_token_stops_it_at_once(api_as: Callable[[str], ApiClient]) -> None:
    sam = api_as("sam")
    second = sam.post("me/tokens", {"name": "ci"}).json()
    response = sam.delete(f"me/tokens/{second['id']}")
    assert response.status_code == 200, response.content
    assert response.json()["revoked_at"] is not None
    assert bearer(second["secret"]).get("/api/v1/me").status_code == 401
    assert sam.get("me").status_code == 200  # the other token still works
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1
    again = sam.delete(f"me/tokens/{second['id']}")
    assert again.status_code == 200
    assert AuditEvent.objects.filter(action="token.revoke").count() == 1


def test_nobody_revokes_someone_elses_token(api_as: Callable[[str], ApiClient]) -> None:
    sam = api_as("sam")
    tina_token = ApiToken.objects.get(user=api_as("tina").user)
    response = sam.delete(f"me/tokens/{tina_token.pk}")
    assert response.status_code == 404
    assert str(tina_token.pk) in response.json()["message"]
    tina_token.refresh_from_db()
    assert tina_token.revoked_at is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({}, "name"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_a_token_needs_a_sensible_name(
    api_as: Callable[[str], ApiClient], payload: dict[str, Any], field: str
) -> None:
    tina = api_as("tina")
    response = tina.post("me/tokens", payload)
    assert response.status_code == 422, response.content
    assert field in response.json()["fields"]
    assert ApiToken.objects.filter(user=tina.user).count() == 1


def test_bad_token_ids(api_as: Callable[[str], ApiClient]) -> None:
    tina = api_as("tina")
    assert tina.delete("me/tokens/999999").status_code == 404
    response = tina.delete("me/tokens/latest")
    assert response.status_code == 422 and "token_id" in response.json()["fields"]


def test_people_without_a_role_cannot_make_tokens(make_person: Callable[[str], User]) -> None:
    client = Client()
    client.force_login(make_person("nobody"))
    assert client.get("/api/v1/me").json()["roles"] == []
    response = client.post("/api/v1/me/tokens", {"name": "x"}, content_type="application/json")
    assert response.status_code == 403
    assert not ApiToken.objects.exists()


def test_a_token_name_the_database_cannot_store_is_never_a_500(
    api_as: Callable[[str], ApiClient],
) -> None:
    # SQLite stores a NUL character; PostgreSQL refuses it, which must be a 422, not a crash.
    response = api_as("tina").post("me/tokens", {"name": "lap\x00top"})
    assert response.status_code in (201, 422), response.content
    assert response.json().get("message") or response.json().get("secret")
