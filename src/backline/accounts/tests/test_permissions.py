"""The whole role x action matrix, walked: who may and who may not."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from backline.accounts.models import User
from backline.accounts.permissions import Action, can, require
from backline.accounts.roles import Role
from backline.conftest import PERSONAS

# Written out by hand (not derived from MATRIX) so a change to the matrix must change this table too.
EXPECTED: dict[Action, set[str]] = {
    Action.TICKET_VIEW: {"tina", "sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.TICKET_CREATE: {"tina", "sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.TICKET_ESCALATE_TIER2: {"tina", "sam", "maggie", "ada"},
    Action.TICKET_ESCALATE_TIER3: {"sam", "maggie", "ada"},
    Action.TICKET_ANSWER: {"sam", "maggie", "ada"},
    Action.TICKET_ACKNOWLEDGE: {"erin", "frank", "mona", "ivan"},
    Action.TICKET_WORK: {"erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.TICKET_REPRIORITISE: {"sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.TICKET_REOPEN: {"sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.TICKET_CANCEL: {"tina", "sam", "maggie", "ada"},
    Action.COMMENT_SHARED: {"tina", "sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.COMMENT_INTERNAL: {"erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.IDENTIFIER_REVEAL: {"erin", "frank", "mona", "ivan", "ada"},
    Action.SLA_VIEW: {"tina", "sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.SLA_MANAGE: {"ada"},
    Action.AUDIT_VIEW: {"ada"},
    Action.TOKEN_MANAGE_OWN: {"tina", "sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.NOTIFY_RULES_OWN: {"tina", "sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.CHANNEL_MANAGE: {"ada"},
    Action.OUTBOX_VIEW: {"ada"},
    Action.OUTBOX_RETRY: {"ada"},
    Action.ONCALL_VIEW: {"tina", "sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.ROTATION_MANAGE: {"maggie", "ada"},
    Action.OVERRIDE_OWN: {"erin", "frank", "mona", "ivan"},
    Action.OVERRIDE_ANY: {"maggie", "ada"},
    Action.HANDOFF_VIEW: {"erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.HANDOFF_ACT: {"erin", "frank", "mona", "ivan"},
    Action.LOGS_SEARCH: {"sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.HEALTH_VIEW: {"sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.INGEST_KEY_MANAGE: {"ada"},
    Action.LOGS_UNMASK_JUSTIFIED: {"ada"},
    Action.PATTERNS_VIEW: {"sam", "erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.INCIDENT_VIEW: {"erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.INCIDENT_OPEN: {"erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.INCIDENT_RESOLVE: {"erin", "frank", "mona", "ivan", "maggie", "ada"},
    Action.ESCALATION_SETTINGS: {"ada"},
}


def test_every_action_is_in_the_expected_table() -> None:
    assert set(EXPECTED) == set(Action)


@pytest.mark.django_db
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("persona", sorted(PERSONAS))
def test_matrix(make_person: Callable[[str], User], persona: str, action: Action) -> None:
    user = make_person(persona)
    allowed = persona in EXPECTED[action]
    assert can(user, action) is allowed
    if allowed:
        require(user, action)
    else:
        with pytest.raises(PermissionDenied, match=action.value):
            require(user, action)


@pytest.mark.django_db
def test_signed_out_and_deactivated_people_may_do_nothing(
    make_person: Callable[[str], User],
) -> None:
    ada = make_person("ada")
    ada.is_active = False
    ada.save()
    fresh = User.objects.get(pk=ada.pk)
    for action in Action:
        assert not can(AnonymousUser(), action)
        assert not can(None, action)
        assert not can(fresh, action)


@pytest.mark.django_db
def test_several_roles_add_up(make_person: Callable[[str], User]) -> None:
    from backline.accounts.models import RoleGrant

    sam = make_person("sam")
    RoleGrant.objects.create(user=sam, role=Role.TIER3)
    sam = User.objects.get(pk=sam.pk)
    assert can(sam, Action.TICKET_ANSWER) and can(sam, Action.TICKET_ACKNOWLEDGE)
