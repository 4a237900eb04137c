"""API: the caller (/me) and their personal API tokens."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema, Status

from backline.accounts.models import ApiToken, User
from backline.accounts.services import api_token_create, api_token_revoke

router = Router(tags=["people"])


class TeamOut(Schema):
    slug: str
    name: str


class MeOut(Schema):
    username: str
    name: str
    email: str
    roles: list[str]
    teams: list[TeamOut]
    time_zone: str


class TokenIn(Schema):
    name: str


class TokenOut(Schema):
    id: int
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    secret: str


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@router.get("/me", response=MeOut, summary="The signed-in person, their roles and teams")
def me(request: HttpRequest) -> MeOut:
    user = _user(request)
    return MeOut(
        username=user.username,
        name=user.name,
        email=user.email,
        roles=sorted(role.value for role in user.roles),
        teams=[TeamOut(slug=t.slug, name=t.name) for t in user.teams.all()],
        time_zone=user.time_zone,
    )


@router.get(
    "/me/tokens", response=list[TokenOut], summary="Your API tokens (secrets are never shown again)"
)
def list_tokens(request: HttpRequest) -> list[ApiToken]:
    return list(_user(request).api_tokens.all())


@router.post(
    "/me/tokens",
    response={201: TokenCreatedOut},
    summary="Create an API token; the secret is shown once",
)
def create_token(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    token, secret = api_token_create(user=_user(request), name=payload.name)
    return Status(
        201,
        TokenCreatedOut(
            id=token.pk,
            name=token.name,
            hint=token.hint,
            created_at=token.created_at,
            last_used_at=None,
            revoked_at=None,
            secret=secret,
        ),
    )


@router.delete("/me/tokens/{token_id}", response=TokenOut, summary="Revoke one of your API tokens")
def revoke_token(request: HttpRequest, token_id: int) -> ApiToken:
    return api_token_revoke(user=_user(request), token_id=token_id)
