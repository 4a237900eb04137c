"""Writes to people, roles and API tokens."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from backline.accounts.models import ApiToken, RoleGrant, Team, User, new_token_secret, token_digest
from backline.accounts.permissions import Action, require
from backline.accounts.roles import Role
from backline.audit.services import audit_record
from backline.errors import InvalidInput, NotFound


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    roles: Iterable[Role],
    display_name: str = "",
    email: str = "",
    teams: Iterable[Team] = (),
) -> User:
    user = User(username=username, display_name=display_name, email=email)
    user.set_password(password)
    user.is_staff = Role.ADMIN in set(roles)
    user.save()
    for role in set(roles):
        RoleGrant.objects.create(user=user, role=role)
    for team in teams:
        team.members.add(user)
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never shown again."""
    require(user, Action.TOKEN_MANAGE_OWN)
    name = name.strip()
    if not name:
        raise InvalidInput(
            "Name the token (e.g. 'laptop scripts').", {"name": ["This field is required."]}
        )
    if len(name) > 100:
        raise InvalidInput("The token name is too long.", {"name": ["At most 100 characters."]})
    secret = new_token_secret()
    token = ApiToken.objects.create(
        user=user, name=name, digest=token_digest(secret), hint=secret[:8]
    )
    audit_record(actor=user, action="token.create", detail={"token": token.pk, "name": name})
    return token, secret


@transaction.atomic
def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound(f"You have no token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=user, action="token.revoke", detail={"token": token.pk})
    return token


def user_for_token(raw: str) -> User | None:
    """The active user owning an active token with this secret, recording its last use."""
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Write at most once a minute: the last-used time is for people, not an access log.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
