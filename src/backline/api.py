"""The REST API root: ``/api/v1/``. Each app contributes a router from its own api.py.

Authentication: ``Authorization: Bearer <token>`` (personal API tokens), or the browser session
(with its CSRF token) so the UI's own scripts can call the API. Every error is JSON:
``{"message": "...", "fields": {"name": ["what is wrong"]}}``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from backline.accounts.models import User
from backline.accounts.services import user_for_token
from backline.errors import Conflict, DomainError, InvalidInput


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(APIKeyCookie):
    """The signed-in browser session; CSRF is enforced for unsafe methods."""

    param_name = "sessionid"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = getattr(request, "user", None)
        if isinstance(user, User) and user.is_authenticated:
            return user
        return None


api = NinjaAPI(
    title="Backline API",
    version="1",
    description="Escalated tickets, SLA clocks and the people who work them.",
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def error_response(
    request: HttpRequest,
    status: int,
    message: str,
    fields: dict[str, Any] | None = None,
    **extra: Any,
) -> HttpResponse:
    body: dict[str, Any] = {"message": message, "fields": fields or {}}
    body.update(extra)
    return api.create_response(request, body, status=status)


@api.exception_handler(InvalidInput)
def _invalid(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    return error_response(request, exc.status_code, exc.message, exc.fields)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return error_response(request, 409, exc.message, allowed=exc.allowed)


@api.exception_handler(DomainError)
def _domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.status_code, exc.message)


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, str(exc) or "You may not do this.")


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, 401, "Sign in or send 'Authorization: Bearer <token>' with a valid API token."
    )


@api.exception_handler(NinjaValidationError)
def _schema(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", [])]
        # Drop where the value came from and the body parameter's name, but only at the front:
        # a field may itself be called "body" (a comment's text).
        if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
            loc = loc[1:]
        if loc and loc[0] == "payload":
            loc = loc[1:]
        fields.setdefault(".".join(loc) or "request", []).append(str(error.get("msg", "invalid")))
    summary = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
    return error_response(request, 422, f"Invalid request: {summary}", fields)


@api.exception_handler(HttpError)
def _http(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, str(exc))


@api.exception_handler(DataError)
def _unstorable(request: HttpRequest, exc: DataError) -> HttpResponse:
    # Last line of defence for values the schemas let through but the database cannot store
    # (e.g. NUL characters on PostgreSQL): the caller's mistake, so a 4xx rather than a 500.
    return error_response(
        request, 422, "A value in this request cannot be stored (e.g. a NUL character)."
    )


def _register_routers() -> None:
    from backline.accounts.api import router as accounts_router
    from backline.calendars.api import router as calendars_router
    from backline.escalation.api import router as escalation_router
    from backline.health.api import router as health_router
    from backline.logs.api import router as logs_router
    from backline.notify.api import router as notify_router
    from backline.oncall.api import router as oncall_router
    from backline.tickets.api import router as tickets_router
    from backline.workbench.api import router as workbench_router

    api.add_router("/", accounts_router)
    api.add_router("/tickets", tickets_router)
    api.add_router("/", calendars_router)
    api.add_router("/logs", logs_router)
    api.add_router("/health", health_router)
    api.add_router("/notify", notify_router)
    api.add_router("/oncall", oncall_router)
    api.add_router("/escalation", escalation_router)
    api.add_router("/workbench", workbench_router)


_register_routers()
