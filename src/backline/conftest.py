"""Shared test fixtures: the personas every permission test names.

tina     Tier 1 agent (Help Desk)
sam      Tier 2 specialist (Technical Support)
erin     Tier 3 engineer           frank   a second Tier 3 engineer
mona     Monitoring on-call        ivan    Investigator on-call
maggie   Support manager           ada     Admin
nobody   signed in, no role at all
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from backline.accounts.models import ApiToken, User, new_token_secret, token_digest
from backline.accounts.roles import Role
from backline.accounts.services import api_token_create, user_create

PERSONAS: dict[str, tuple[Role, ...]] = {
    "tina": (Role.TIER1,),
    "sam": (Role.TIER2,),
    "erin": (Role.TIER3,),
    "frank": (Role.TIER3,),
    "mona": (Role.MONITORING,),
    "ivan": (Role.INVESTIGATOR,),
    "maggie": (Role.MANAGER,),
    "ada": (Role.ADMIN,),
    "nobody": (),
}
PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def make_person(db: Any) -> Callable[[str], User]:
    def make(name: str) -> User:
        existing = User.objects.filter(username=name).first()
        if existing is not None:
            return existing
        return user_create(
            username=name, password=PASSWORD, roles=PERSONAS[name], display_name=name.title()
        )

    return make


@pytest.fixture
def tina(make_person: Callable[[str], User]) -> User:
    return make_person("tina")


@pytest.fixture
def sam(make_person: Callable[[str], User]) -> User:
    return make_person("sam")


@pytest.fixture
def erin(make_person: Callable[[str], User]) -> User:
    return make_person("erin")


@pytest.fixture
def frank(make_person: Callable[[str], User]) -> User:
    return make_person("frank")


@pytest.fixture
def mona(make_person: Callable[[str], User]) -> User:
    return make_person("mona")


@pytest.fixture
def ivan(make_person: Callable[[str], User]) -> User:
    return make_person("ivan")


@pytest.fixture
def maggie(make_person: Callable[[str], User]) -> User:
    return make_person("maggie")


@pytest.fixture
def ada(make_person: Callable[[str], User]) -> User:
    return make_person("ada")


@pytest.fixture
def nobody(make_person: Callable[[str], User]) -> User:
    return make_person("nobody")


@pytest.fixture(autouse=True)
def default_sla_policies(request: pytest.FixtureRequest) -> None:
    """Keep the migration's default calendars and SLA policies in place for database tests.

    A transactional test empties every table when it ends, migration data included; without this,
    whichever test runs next in that process would find no SLA policy.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from backline.calendars.models import Calendar
    from backline.tickets.defaults import install_defaults
    from backline.tickets.models import SlaPolicy

    install_defaults(Calendar, SlaPolicy)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Argon2 is deliberately slow; tests hash dozens of persona passwords, so use a fast hasher."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class ApiClient:
    """A test client that calls /api/v1/ with a real personal API token."""

    def __init__(self, user: User) -> None:
        if user.roles:
            _, self.secret = api_token_create(user=user, name="tests")
        else:
            # People without a role may not create tokens; write one directly so tests can show
            # that such a person is refused by each endpoint.
            self.secret = new_token_secret()
            ApiToken.objects.create(
                user=user, name="tests", digest=token_digest(self.secret), hint=self.secret[:8]
            )
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.secret}")
        self.user = user

    def _url(self, path: str) -> str:
        return "/api/v1/" + path.lstrip("/")

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(self._url(path), params)

    def post(self, path: str, data: Any = None) -> Any:
        return self.client.post(self._url(path), data or {}, content_type="application/json")

    def patch(self, path: str, data: Any = None) -> Any:
        return self.client.patch(self._url(path), data or {}, content_type="application/json")

    def put(self, path: str, data: Any = None) -> Any:
        return self.client.put(self._url(path), data or {}, content_type="application/json")

    def delete(self, path: str) -> Any:
        return self.client.delete(self._url(path))


@pytest.fixture
def api_as(make_person: Callable[[str], User]) -> Callable[[str], ApiClient]:
    """``api_as("erin").post("tickets/BL-1001/acknowledge")``"""
    return lambda name: ApiClient(make_person(name))


TIER3_CONTEXT: dict[str, Any] = {
    "title": "RX - Medications list empty although the clinical record shows them",
    "description": "Patient reports the prescriptions page shows no medications since Monday.",
    "priority": "medium",
    "affected_user_id": "1012345678V123456",
    "area": "medications",
    "suspected_upstream": "vista",
    "occurred_at": "2026-11-23T14:05:00Z",
    "device": "Desktop",
    "browser": "Chrome 142",
    "os": "Windows 11",
    "credential": "idme",
    "oracle_health_site": False,
    "url": "https://portal.example.org/my-health/medications",
    "external_refs": ["HRC-HD-Y4-0000447389"],
    "steps_to_reproduce": "Sign in, open Medications.",
    "expected_behaviour": "Active prescriptions are listed.",
    "actual_behaviour": "Empty list, no error shown.",
    "troubleshooting_steps": [
        "Cleared cache and cookies",
        "Confirmed prescriptions in the clinical record",
    ],
    "entry_criterion": "tier2_cannot_resolve",
}


@pytest.fixture
def tier3_context() -> dict[str, Any]:
    """A complete Tier 2 -> Tier 3 escalation context (copy; tests may change it)."""
    from datetime import datetime

    context = dict(TIER3_CONTEXT)
    context["occurred_at"] = datetime.fromisoformat("2026-11-23T14:05:00+00:00")
    return context
