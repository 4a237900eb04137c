"""Views of the shell: the home redirect and the person's own API tokens.

Sign-in and sign-out are Django's own views (see urls.py) with our templates.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from backline.accounts import services as account_services
from backline.accounts.models import User
from backline.accounts.permissions import Action, can
from backline.accounts.roles import Role
from backline.errors import DomainError
from backline.web.forms import TokenCreateForm
from backline.web.shortcuts import errors_onto_form, render_domain_error, staff_view

# The queue each role works first, most specific first: a person holding several roles lands on
# the highest tier they work (an engineer who also covers Tier 2 starts at Tier 3).
HOME_QUEUE: tuple[tuple[Role, int], ...] = (
    (Role.TIER3, 3),
    (Role.MONITORING, 3),
    (Role.INVESTIGATOR, 3),
    (Role.MANAGER, 3),
    (Role.ADMIN, 3),
    (Role.TIER2, 2),
    (Role.TIER1, 1),
)


def home_tier(user: User) -> int | None:
    """The tier whose queue is the person's most relevant one, or None without any role."""
    for role, tier in HOME_QUEUE:
        if user.has_role(role):
            return tier
    return None


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


@staff_view
def home(request: HttpRequest) -> HttpResponse:
    """Send the person to their most relevant queue; people without a role get an explanation."""
    tier = home_tier(_user(request))
    if tier is None:
        return render(request, "web/home.html", status=200)
    return redirect("web:tickets:queue", tier=tier)


def _tokens_page(
    request: HttpRequest, form: TokenCreateForm, *, secret: str = "", status: int = 200
) -> HttpResponse:
    tokens = _user(request).api_tokens.all()
    return render(
        request,
        "web/tokens.html",
        {"form": form, "tokens": tokens, "secret": secret},
        status=status,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """List the person's API tokens and create one; the secret is shown on this answer only."""
    user = _user(request)
    if not can(user, Action.TOKEN_MANAGE_OWN):
        return render_domain_error(request, PermissionDenied("Your roles do not allow API tokens."))
    if request.method == "GET":
        return _tokens_page(request, TokenCreateForm())
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _tokens_page(request, form, status=422)
    try:
        token, secret = account_services.api_token_create(user=user, name=form.cleaned_data["name"])
    except (DomainError, PermissionDenied) as exc:
        errors_onto_form(form, exc)
        return _tokens_page(request, form, status=422)
    messages.success(
        request, f"Token '{token.name}' created. Copy its secret now: it is not shown again."
    )
    # Rendered, not redirected: the secret must never be stored, not even in the session.
    return _tokens_page(request, TokenCreateForm(), secret=secret, status=201)


@staff_view
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of the person's own tokens (someone else's is "not found")."""
    try:
        token = account_services.api_token_revoke(user=_user(request), token_id=token_id)
    except DomainError as exc:
        return render_domain_error(request, exc)
    messages.success(request, f"Token '{token.name}' revoked.")
    return redirect("web:tokens")
